// The depot kiosk: a tablet at the site shows what can be taken now, in large type; a resident
// reserves with a short login that is ended at once, so the tablet never keeps anyone signed in.
import { useEffect, useState } from "preact/hooks";
import { get, post } from "../api";
import { categories, categoryLabel, sites } from "../catalog";
import type { Item, Page, Session } from "../types";
import { Alert, CONDITION_LABEL, Field, fieldError, formatDate, Loading, Notice, useAction, useLoad } from "../ui";

// The kiosk refreshes itself so a tablet left on shows what is really on the shelves.
const REFRESH_MS = 60_000;

function Reserve({ item, onDone, onCancel }: { item: Item; onDone: (until: string | null) => void; onCancel: () => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const login = await post<Session>("/v1/auth/login", { email, password }, { token: "" });
      try {
        const reserved = await post<Item>(`/v1/items/${item.id}/reserve`, undefined, { token: login.token });
        onDone(reserved.reserved_until ?? null);
      } finally {
        await post("/v1/auth/logout", undefined, { token: login.token }).catch(() => undefined);
      }
    });
  };
  return (
    <form onSubmit={submit} noValidate class="inline-form" aria-label={`Réserver ${item.title ?? "l’objet"}`}>
      <p>Pour réserver « {item.title} », identifiez-vous. Vous serez déconnecté tout de suite après.</p>
      <Alert error={action.error} />
      <Field label="Adresse e-mail" error={fieldError(action.error, "email")}>
        {(p) => <input {...p} type="email" autoComplete="off" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />}
      </Field>
      <Field label="Mot de passe" error={fieldError(action.error, "password")}>
        {(p) => <input {...p} type="password" autoComplete="off" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />}
      </Field>
      <div class="row">
        <button type="submit" class="button" disabled={action.busy}>Confirmer la réservation</button>
        <button type="button" class="button button--light" onClick={onCancel}>Annuler</button>
      </div>
    </form>
  );
}

export function KioskPage({ site }: { site: string | null }) {
  const allSites = useLoad(sites, []);
  const tree = useLoad(categories, []);
  const items = useLoad(async () => {
    if (!site) return [];
    return (await get<Page<Item>>(`/v1/sites/${site}/items?status=available&limit=100`, { token: "" })).items;
  }, [site]);
  const [open, setOpen] = useState<string | null>(null);
  const [done, setDone] = useState<string>("");
  useEffect(() => {
    const timer = setInterval(() => void items.reload(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [items.reload]);
  const here = allSites.data?.find((s) => s.id === site);
  if (!site) {
    return (
      <>
        <h1>Borne de dépôt</h1>
        <p>Choisissez le lieu de cette borne :</p>
        <ul class="cards">
          {(allSites.data ?? []).map((s) => (
            <li class="card" key={s.id}>
              <a href={`/kiosk?site=${s.id}`}>{s.name}</a>
            </li>
          ))}
        </ul>
      </>
    );
  }
  return (
    <>
      <h1>{here ? `Disponible maintenant à ${here.name}` : "Disponible maintenant"}</h1>
      {done && <Notice>{done}</Notice>}
      <Alert error={items.error} />
      <Loading when={items.loading && !items.data}>
        {items.data?.length ? (
          <ul class="cards kiosk-items">
            {items.data.map((item) => (
              <li class="card" key={item.id}>
                <h2>{item.title}</h2>
                <p>
                  {categoryLabel(tree.data, item.category)} · {CONDITION_LABEL[item.condition] ?? item.condition} ·{" "}
                  {item.mode === "lend" ? "à emprunter" : "à donner"}
                </p>
                {open === item.id ? (
                  <Reserve
                    item={item}
                    onCancel={() => setOpen(null)}
                    onDone={(until) => {
                      setOpen(null);
                      setDone(`« ${item.title} » est réservé pour vous${until ? ` jusqu’au ${formatDate(until)}` : ""}. Présentez-vous à l’accueil.`);
                      void items.reload();
                    }}
                  />
                ) : (
                  <button type="button" class="button" onClick={() => { setDone(""); setOpen(item.id); }} aria-label={`Réserver : ${item.title}`}>
                    Réserver
                  </button>
                )}
              </li>
            ))}
          </ul>
        ) : (
          <p>Aucun objet disponible pour le moment.</p>
        )}
      </Loading>
    </>
  );
}
