// The depot kiosk: a tablet at the site shows what can be taken now, in large type; a resident
// reserves with a short login that is ended at once, so the tablet never keeps anyone signed in.
import { useEffect, useState } from "preact/hooks";
import { get, post } from "../api";
import { categories, categoryLabel, sites } from "../catalog";
import type { Item, Page, Session } from "../types";
import { Alert, CONDITION_LABEL, Field, fieldError, formatDate, Loading, Notice, STATUS_LABEL, useAction, useLoad } from "../ui";

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

// What a label's scanner types: its page address (ending with the object's id), the bare id, or
// the short code printed under the QR (the id's first 8 hex digits, e.g. 3F2A-91C0).
const UUID_AT_END = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/?\s*$/i;

function readCode(text: string): { id?: string; prefix?: string } | null {
  const whole = UUID_AT_END.exec(text.trim());
  if (whole) return { id: whole[1].toLowerCase() };
  const digits = text.replace(/[\s-]/g, "").toLowerCase();
  return /^[0-9a-f]{8}$/.test(digits) ? { prefix: digits } : null;
}

/** A scanner acts as a keyboard that ends with Enter: the field takes the code and finds the object. */
function Scan({ site, onFound }: { site: string; onFound: (items: Item[] | null) => void }) {
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    const code = readCode(text);
    if (!code) {
      setError("Ce code n’est pas celui d’une étiquette : scannez le code QR ou tapez les 8 caractères écrits dessous.");
      return;
    }
    setError("");
    void action.run(async () => {
      const answer = await get<Page<Item>>(`/v1/sites/${site}/items?code=${encodeURIComponent(text.trim())}&limit=100`, { token: "" });
      // Only the object the code names (an older depot answers the whole shelf).
      onFound(answer.items.filter((i) => (code.id ? i.id === code.id : i.id.startsWith(code.prefix ?? "\u0000"))));
      setText("");
    });
  };
  return (
    <form onSubmit={submit} noValidate class="row row--end" aria-label="Scanner une étiquette">
      <Field label="Code de l’étiquette" hint="Scannez le code QR de l’objet, ou tapez le code écrit dessous." error={error || fieldError(action.error, "code")}>
        {(p) => <input {...p} value={text} onInput={(e) => setText(e.currentTarget.value)} autoComplete="off" autoCapitalize="characters" />}
      </Field>
      <button type="submit" class="button" disabled={action.busy || !text.trim()}>
        Trouver l’objet
      </button>
      {action.error && !fieldError(action.error, "code") ? <Alert error={action.error} /> : null}
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
  // The objects a scan named, shown alone until the resident goes back to the whole shelf.
  const [scanned, setScanned] = useState<Item[] | null>(null);
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
      <Scan
        site={site}
        onFound={(found) => {
          setDone("");
          setScanned(found);
        }}
      />
      {scanned && (
        <div class="row">
          <p role="status">{scanned.length ? "Objet trouvé par son étiquette :" : "Aucun objet de ce lieu ne porte ce code."}</p>
          <button type="button" class="button button--light" onClick={() => setScanned(null)}>
            Voir tous les objets
          </button>
        </div>
      )}
      <Alert error={items.error} />
      <Loading when={items.loading && !items.data}>
        {(scanned ?? items.data)?.length ? (
          <ul class="cards kiosk-items">
            {(scanned ?? items.data ?? []).map((item) => (
              <li class="card" key={item.id}>
                <h2>{item.title}</h2>
                <p>
                  {categoryLabel(tree.data, item.category)} · {CONDITION_LABEL[item.condition] ?? item.condition} ·{" "}
                  {item.mode === "lend" ? "à emprunter" : "à donner"}
                </p>
                {item.status !== "available" ? (
                  <p>{STATUS_LABEL[item.status] ?? item.status} : demandez à l’accueil.</p>
                ) : open === item.id ? (
                  <Reserve
                    item={item}
                    onCancel={() => setOpen(null)}
                    onDone={(until) => {
                      setOpen(null);
                      setScanned(null);
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
        ) : scanned ? null : (
          <p>Aucun objet disponible pour le moment.</p>
        )}
      </Loading>
    </>
  );
}
