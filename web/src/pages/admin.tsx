// Administration: communities (name and policy), their sites (name, address, kind, opening
// hours), staff (found by name, added or removed). Administrators see every community; staff see
// the sites they run, whose details and opening hours they may change.
import { useState } from "preact/hooks";
import { ApiError, del, get, patch, post, query } from "../api";
import { sites } from "../catalog";
import { session } from "../session";
import { communityName, networkLabel } from "../sitepicker";
import type { OpeningHours, Page, PublicMember, Site } from "../types";
import { Alert, ChoiceField, ConfirmButton, Field, fieldError, Loading, Notice, PageTitle, useAction, useLoad } from "../ui";

interface Community {
  id: string;
  name: string;
  policy: Record<string, number | string>;
}

const POLICY_LABEL: [string, string, string][] = [
  ["min_balance", "Découvert permis (minutes, négatif)", "number"],
  ["max_balance", "Solde maximal (minutes)", "number"],
  ["signup_bonus", "Bonus de bienvenue (minutes)", "number"],
  ["monthly_allowance", "Allocation mensuelle (minutes)", "number"],
  ["deposit_reward", "Récompense d’un dépôt (minutes)", "number"],
  ["loan_cost", "Coût d’un prêt (minutes)", "number"],
  ["reservation_hours", "Durée d’une réservation (heures)", "number"],
  ["unclaimed_days", "Objet non réclamé après (jours)", "number"],
  ["proposal_days", "Proposition expirée après (jours)", "number"],
  ["grant_review_minutes", "Don de crédits revu au-delà de (minutes)", "number"],
];

const KIND_LABEL: Record<string, string> = {
  tiers_lieu: "Tiers-lieu",
  objetotheque: "Objetothèque",
  ressourcerie: "Ressourcerie",
  conciergerie: "Conciergerie",
};

export const DAYS: [string, string][] = [
  ["mon", "Lundi"],
  ["tue", "Mardi"],
  ["wed", "Mercredi"],
  ["thu", "Jeudi"],
  ["fri", "Vendredi"],
  ["sat", "Samedi"],
  ["sun", "Dimanche"],
];

/** "09:00-12:30, 14:00-18:00" ⇄ [["09:00","12:30"],["14:00","18:00"]]: one line per day. */
export function parseRanges(text: string): [string, string][] | null {
  const parts = text.split(",").map((p) => p.trim()).filter(Boolean);
  const out: [string, string][] = [];
  for (const part of parts) {
    const m = /^(\d{1,2})[:h](\d{2})\s*[-–à]\s*(\d{1,2})[:h](\d{2})$/.exec(part);
    if (!m) return null;
    const pad = (h: string, mm: string) => `${h.padStart(2, "0")}:${mm}`;
    out.push([pad(m[1], m[2]), pad(m[3], m[4])]);
  }
  return out;
}

function formatRanges(ranges: [string, string][] | undefined): string {
  return (ranges ?? []).map(([a, b]) => `${a}-${b}`).join(", ");
}

function asHours(value: Site["opening_hours"] | string): OpeningHours {
  if (value && typeof value === "object") return value;
  return { weekly: {}, exceptions: [] };
}

function HoursEditor({ site, onSaved }: { site: Site; onSaved: (s: Site) => void }) {
  const initial = asHours(site.opening_hours);
  const [days, setDays] = useState<Record<string, string>>(() => Object.fromEntries(DAYS.map(([d]) => [d, formatRanges(initial.weekly?.[d])])));
  const [closed, setClosed] = useState((initial.exceptions ?? []).filter((e) => e.closed).map((e) => e.date).join(", "));
  // Days open at other hours than usual (Christmas Eve's morning): kept, shown and edited.
  const [special, setSpecial] = useState(
    (initial.exceptions ?? [])
      .filter((e) => !e.closed && e.hours?.length)
      .map((e) => `${e.date} ${formatRanges(e.hours)}`)
      .join(" ; "),
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    setSaved(false);
    const weekly: Record<string, [string, string][]> = {};
    const found: Record<string, string> = {};
    for (const [day] of DAYS) {
      const ranges = parseRanges(days[day] ?? "");
      if (ranges === null) found[day] = "Écrivez les horaires ainsi : 09:00-12:30, 14:00-18:00.";
      else if (ranges.length) weekly[day] = ranges;
    }
    const dates = closed.split(",").map((d) => d.trim()).filter(Boolean);
    if (dates.some((d) => !/^\d{4}-\d{2}-\d{2}$/.test(d))) found.closed = "Écrivez les dates ainsi : 2026-12-25, 2027-01-01.";
    const specials: { date: string; hours: [string, string][] }[] = [];
    for (const part of special.split(";").map((p) => p.trim()).filter(Boolean)) {
      const m = /^(\d{4}-\d{2}-\d{2})\s+(.+)$/.exec(part);
      const ranges = m ? parseRanges(m[2]) : null;
      if (!m || !ranges?.length) found.special = "Écrivez une date puis ses plages, par exemple 2026-12-24 09:00-12:00 ; 2026-12-31 10:00-16:00.";
      else specials.push({ date: m[1], hours: ranges });
    }
    setErrors(found);
    if (Object.keys(found).length) return;
    const opening_hours = { weekly, exceptions: [...dates.map((date) => ({ date, closed: true })), ...specials] };
    void action.run(async () => {
      onSaved(await patch<Site>(`/v1/sites/${site.id}`, { opening_hours }, { asSelf: true }));
      setSaved(true);
    });
  };
  return (
    <form onSubmit={submit} noValidate aria-label={`Horaires de ${site.name}`}>
      <fieldset>
        <legend>Horaires d’ouverture (heure de Paris)</legend>
        <p class="hint">Pour chaque jour, les plages séparées par une virgule, par exemple 09:00-12:30, 14:00-18:00. Vide : fermé.</p>
        {DAYS.map(([day, label]) => (
          <Field key={day} label={label} error={errors[day]}>
            {(p) => <input {...p} value={days[day]} onInput={(e) => setDays({ ...days, [day]: e.currentTarget.value })} />}
          </Field>
        ))}
        <Field label="Jours de fermeture exceptionnelle" hint="Dates séparées par une virgule, par exemple 2026-12-25." error={errors.closed}>
          {(p) => <input {...p} value={closed} onInput={(e) => setClosed(e.currentTarget.value)} />}
        </Field>
        <Field label="Jours aux horaires particuliers" hint="Une date puis ses plages, séparées par un point-virgule, par exemple 2026-12-24 09:00-12:00." error={errors.special}>
          {(p) => <input {...p} value={special} onInput={(e) => setSpecial(e.currentTarget.value)} />}
        </Field>
      </fieldset>
      <Alert error={action.error} />
      {saved && <Notice>Horaires enregistrés.</Notice>}
      <button type="submit" class="button" disabled={action.busy}>
        Enregistrer les horaires
      </button>
    </form>
  );
}

function SiteDetails({ site, onSaved }: { site: Site; onSaved: (s: Site) => void }) {
  const [form, setForm] = useState({ name: site.name, address: site.address });
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    setSaved(false);
    void action.run(async () => {
      onSaved(await patch<Site>(`/v1/sites/${site.id}`, form, { asSelf: true }));
      setSaved(true);
    });
  };
  return (
    <form onSubmit={submit} noValidate aria-label={`Informations de ${site.name}`}>
      <Alert error={action.error} />
      <Field label="Nom du lieu" error={fieldError(action.error, "name")}>
        {(p) => <input {...p} value={form.name} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} />}
      </Field>
      <Field label="Adresse" error={fieldError(action.error, "address")}>
        {(p) => <input {...p} value={form.address} onInput={(e) => setForm({ ...form, address: e.currentTarget.value })} />}
      </Field>
      {saved && <Notice>Lieu enregistré.</Notice>}
      <button type="submit" class="button" disabled={action.busy}>
        Enregistrer le lieu
      </button>
    </form>
  );
}

function Staff({ site }: { site: Site }) {
  const [text, setText] = useState("");
  const [found, setFound] = useState<PublicMember[] | null>(null);
  const [done, setDone] = useState("");
  const action = useAction();
  const find = (event: Event) => {
    event.preventDefault();
    setDone("");
    void action.run(async () => setFound((await get<Page<PublicMember>>(`/v1/members${query({ q: text.trim(), limit: 10 })}`, { asSelf: true })).items));
  };
  const add = (m: PublicMember) =>
    action.run(async () => {
      await post(`/v1/sites/${site.id}/staff`, { member_id: m.id }, { asSelf: true });
      setDone(`${m.display_name} tient maintenant l’accueil de ${site.name}.`);
    });
  const remove = (m: PublicMember) =>
    action.run(async () => {
      await del(`/v1/sites/${site.id}/staff/${m.id}`, { asSelf: true });
      setDone(`${m.display_name} ne tient plus l’accueil de ${site.name}.`);
    });
  return (
    <section aria-label={`Équipe de ${site.name}`}>
      <h4>Équipe d’accueil</h4>
      <form onSubmit={find} noValidate class="row row--end">
        <Field label="Chercher un membre (nom, e-mail, numéro)">
          {(p) => <input {...p} type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} />}
        </Field>
        <button type="submit" class="button button--light" disabled={action.busy || !text.trim()}>
          Chercher
        </button>
      </form>
      <Alert error={action.error} />
      {done && <Notice>{done}</Notice>}
      {found && found.length === 0 && <p role="status">Aucun membre ne correspond.</p>}
      {found && found.length > 0 && (
        <ul class="cards">
          {found.map((m) => (
            <li class="card" key={m.id}>
              <p>
                <strong>{m.display_name}</strong> {m.email ? `· ${m.email}` : ""}
              </p>
              <div class="row">
                <button type="button" class="button" onClick={() => add(m)} aria-label={`Ajouter ${m.display_name} à l’équipe`}>
                  Ajouter à l’équipe
                </button>
                <ConfirmButton
                  label="Retirer de l’équipe"
                  ariaLabel={`Retirer ${m.display_name} de l’équipe`}
                  question={`Retirer ses droits d’accueil à ${m.display_name} ? Ses sessions seront fermées.`}
                  yes="Oui, retirer"
                  onConfirm={() => remove(m)}
                />
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function SiteAdmin({ initial, admin }: { initial: Site; admin: boolean }) {
  const [site, setSite] = useState(initial);
  const [open, setOpen] = useState(false);
  return (
    <li class="card">
      <h3>
        {site.name} <span class="hint">· {KIND_LABEL[site.kind] ?? site.kind}</span>
      </h3>
      <p class="hint">
        {site.address}
        {site.open_now !== undefined && ` · ${site.open_now ? "ouvert en ce moment" : "fermé en ce moment"}`}
      </p>
      <button type="button" class="button button--light" aria-expanded={open} onClick={() => setOpen(!open)}>
        {open ? "Fermer" : `Modifier ${site.name}`}
      </button>
      {open && (
        <>
          <SiteDetails site={site} onSaved={setSite} />
          <HoursEditor site={site} onSaved={setSite} />
          {admin && <Staff site={site} />}
        </>
      )}
    </li>
  );
}

function NewSite({ community, onDone }: { community: string; onDone: () => void }) {
  const [form, setForm] = useState({ name: "", kind: "tiers_lieu", address: "", lat: "", lon: "" });
  const action = useAction();
  const set = (key: keyof typeof form) => (e: { currentTarget: HTMLInputElement | HTMLSelectElement }) => setForm({ ...form, [key]: e.currentTarget.value });
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const location = { lat: Number(form.lat.replace(",", ".")), lon: Number(form.lon.replace(",", ".")) };
      await post("/v1/sites", { community_id: community, name: form.name, kind: form.kind, address: form.address, location }, { asSelf: true });
      setForm({ name: "", kind: "tiers_lieu", address: "", lat: "", lon: "" });
      onDone();
    });
  };
  const e = action.error;
  return (
    <form onSubmit={submit} noValidate aria-label="Nouveau lieu">
      <h3>Ouvrir un lieu</h3>
      <Alert error={e} />
      <Field label="Nom du nouveau lieu" error={fieldError(e, "name")}>
        {(p) => <input {...p} value={form.name} onInput={set("name")} />}
      </Field>
      <Field label="Type de lieu" error={fieldError(e, "kind")}>
        {(p) => (
          <select {...p} value={form.kind} onChange={set("kind")}>
            {Object.entries(KIND_LABEL).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Adresse du nouveau lieu" error={fieldError(e, "address")}>
        {(p) => <input {...p} value={form.address} onInput={set("address")} />}
      </Field>
      <div class="row">
        <Field label="Latitude" hint="Par exemple 50,6297." error={fieldError(e, "location.lat", "location")}>
          {(p) => <input {...p} inputMode="decimal" value={form.lat} onInput={set("lat")} />}
        </Field>
        <Field label="Longitude" hint="Par exemple 3,0917." error={fieldError(e, "location.lon")}>
          {(p) => <input {...p} inputMode="decimal" value={form.lon} onInput={set("lon")} />}
        </Field>
      </div>
      <button type="submit" class="button" disabled={action.busy}>
        Ouvrir ce lieu
      </button>
    </form>
  );
}

function Policy({ community, onSaved }: { community: Community; onSaved: (c: Community) => void }) {
  const [name, setName] = useState(community.name);
  const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries(POLICY_LABEL.map(([k]) => [k, String(community.policy[k] ?? "")])));
  const [membership, setMembership] = useState(String(community.policy.membership ?? "open"));
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    setSaved(false);
    const policy: Record<string, number | string> = { membership };
    for (const [key] of POLICY_LABEL) if (values[key].trim() !== "") policy[key] = Number(values[key]);
    void action.run(async () => {
      onSaved(await patch<Community>(`/v1/communities/${community.id}`, { name, policy }, { asSelf: true }));
      setSaved(true);
    });
  };
  const e = action.error;
  return (
    <form onSubmit={submit} noValidate aria-label={`Règles de ${community.name}`}>
      <Alert error={e} />
      <Field label="Nom du réseau" error={fieldError(e, "name")}>
        {(p) => <input {...p} value={name} onInput={(ev) => setName(ev.currentTarget.value)} />}
      </Field>
      <fieldset>
        <legend>Règles du réseau</legend>
        <Field label="Adhésion" error={fieldError(e, "policy.membership")}>
          {(p) => (
            <select {...p} value={membership} onChange={(ev) => setMembership(ev.currentTarget.value)}>
              <option value="open">ouverte à tous</option>
              <option value="approval">validée par l’accueil</option>
            </select>
          )}
        </Field>
        {POLICY_LABEL.map(([key, label]) => (
          <Field key={key} label={label} error={fieldError(e, `policy.${key}`, key)}>
            {(p) => <input {...p} type="number" inputMode="numeric" value={values[key]} onInput={(ev) => setValues({ ...values, [key]: ev.currentTarget.value })} />}
          </Field>
        ))}
      </fieldset>
      {saved && <Notice>Règles enregistrées.</Notice>}
      <button type="submit" class="button" disabled={action.busy}>
        Enregistrer les règles
      </button>
    </form>
  );
}

function CommunityAdmin({ id, admin }: { id: string; admin: boolean }) {
  const community = useLoad(() => get<Community>(`/v1/communities/${id}`, { asSelf: true }), [id]);
  const all = useLoad(sites, []);
  const [fresh, setFresh] = useState(0);
  const theirs = useLoad(async () => {
    if (fresh) await sites(true);
    const me = session.me();
    return (await sites()).filter((s) => s.community_id === id && (admin || me?.staff_site_ids.includes(s.id)));
  }, [id, fresh, all.data]);
  const c = community.data;
  return (
    <section class="card" aria-labelledby={`reseau-${id}`}>
      <h2 id={`reseau-${id}`}>{c?.name ?? "Réseau"}</h2>
      <Alert error={community.error instanceof ApiError && community.error.status === 403 ? null : community.error} />
      {c && admin && <Policy community={c} onSaved={(next) => community.setData(next)} />}
      <h3>Lieux</h3>
      <Loading when={theirs.loading && !theirs.data}>
        <ul class="cards">
          {(theirs.data ?? []).map((s) => (
            <SiteAdmin key={s.id} initial={s} admin={admin} />
          ))}
        </ul>
      </Loading>
      {admin && <NewSite community={id} onDone={() => setFresh((n) => n + 1)} />}
    </section>
  );
}

function NewCommunity({ onDone }: { onDone: (id: string) => void }) {
  const [name, setName] = useState("");
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const created = await post<Community>("/v1/communities", { name, policy: {} }, { asSelf: true });
      setName("");
      onDone(created.id);
    });
  };
  return (
    <form onSubmit={submit} noValidate aria-label="Nouveau réseau">
      <h2>Créer un réseau</h2>
      <Alert error={action.error} />
      <Field label="Nom du nouveau réseau" error={fieldError(action.error, "name")}>
        {(p) => <input {...p} value={name} onInput={(e) => setName(e.currentTarget.value)} />}
      </Field>
      <button type="submit" class="button" disabled={action.busy || name.trim().length < 2}>
        Créer le réseau
      </button>
    </form>
  );
}

export function AdminPage() {
  const me = session.me();
  const admin = me?.roles.includes("admin") ?? false;
  const [created, setCreated] = useState<string[]>([]);
  const [chosen, setChosen] = useState(me?.community_id ?? "");
  // The networks this person runs, named by their sites (no list of communities exists, and
  // one request per network would be many on a large installation).
  const networks = useLoad(async () => {
    const all = await sites(created.length > 0);
    const byCommunity = new Map<string, Site[]>();
    for (const s of all.filter((x) => admin || me?.staff_site_ids.includes(x.id) || session.administers(x.community_id))) {
      byCommunity.set(s.community_id, [...(byCommunity.get(s.community_id) ?? []), s]);
    }
    for (const id of [...created, ...(me?.admin_community_ids ?? [])]) if (!byCommunity.has(id)) byCommunity.set(id, []);
    const own = me?.community_id ? await communityName(me.community_id) : null;
    return [...byCommunity.entries()]
      .map(([id, list]) => ({ id, label: id === me?.community_id && own ? own : list.length ? networkLabel(list) : "Nouveau réseau" }))
      .sort((a, b) => Number(b.id === me?.community_id) - Number(a.id === me?.community_id) || a.label.localeCompare(b.label, "fr"));
  }, [created]);
  const list = networks.data ?? [];
  const current = list.find((n) => n.id === chosen)?.id ?? list[0]?.id ?? "";
  if (!session.mayAdminister()) {
    return (
      <>
        <PageTitle>Administration</PageTitle>
        <p>Cette page est réservée aux administrateurs et aux personnes qui tiennent l’accueil d’un lieu.</p>
      </>
    );
  }
  return (
    <>
      <PageTitle>Administration</PageTitle>
      <nav aria-label="Pages d’administration">
        <ul class="subnav">
          <li>
            <a href="/admin/partenaires">Communautés partenaires</a>
          </li>
          {admin && (
            <li>
              <a href="/admin/sante">Santé du réseau</a>
            </li>
          )}
        </ul>
      </nav>
      <Alert error={networks.error} />
      <Loading when={networks.loading && !networks.data}>
        {list.length > 1 && (
          <ChoiceField label="Réseau à administrer" value={current} onChange={setChosen} choices={list} />
        )}
        {current && <CommunityAdmin key={current} id={current} admin={session.administers(current)} />}
      </Loading>
      {admin && (
        <NewCommunity
          onDone={(id) => {
            setCreated([...created, id]);
            setChosen(id);
          }}
        />
      )}
    </>
  );
}
