// The conciergerie desk: a site's day (exchanges due, disputed, overdue; objects to hand out or
// to redirect), acting for a member, and the depot's intake, hand-out, loan, return, redirect.
import { useState } from "preact/hooks";
import { get, post, query } from "../api";
import { categories, categoryLabel, flatten, sites } from "../catalog";
import { session } from "../session";
import type { Desk, DeskMember, Exchange, Item, Page, PublicMember, Site } from "../types";
import { Alert, CONDITION_LABEL, Field, fieldError, formatDate, formatMinutes, Loading, Notice, PageTitle, STATE_LABEL, useAction, useLoad } from "../ui";
import { SitePicker } from "./auth";
import { dayAt, dayOf } from "./loans";

const self = { asSelf: true };
// A loan's default length at the desk; staff can take the object back earlier.
const LOAN_DAYS = 14;
const DAY_MS = 86_400_000;
// The field is in kilograms: its error speaks in kilograms too (the API counts grams).
const WEIGHT_MESSAGE = "Indiquez le poids en kilogrammes, entre 0,001 et 1000 (par exemple 1,5).";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Staff find a member by name, e-mail, phone or member number (GET /v1/members?q=), or by the
// full id when they have it.
async function findMembers(text: string): Promise<PublicMember[]> {
  const q = text.trim();
  if (UUID.test(q)) return [await get<PublicMember>(`/v1/members/${q}`, self)];
  return (await get<Page<PublicMember>>(`/v1/members${query({ q, limit: 10 })}`, self)).items;
}

function FindMember() {
  const [text, setText] = useState("");
  const [found, setFound] = useState<PublicMember[] | null>(null);
  const action = useAction();
  const acting = session.actingFor();
  const find = (event: Event) => {
    event.preventDefault();
    // What the field holds now: a search sent right after typing (a scan, a quick Enter) may
    // come before the state of the last keystroke was rendered, and would search the old text.
    const input = (event.currentTarget as HTMLFormElement).querySelector<HTMLInputElement>("input[type=search]");
    const q = input?.value ?? text;
    setFound(null);
    void action.run(async () => setFound(await findMembers(q)));
  };
  return (
    <section aria-labelledby="titre-membre">
      <h2 id="titre-membre">Agir pour un membre</h2>
      {acting && <Notice>Vous agissez actuellement pour {acting.display_name}. Ses pages (accueil, annonces, échanges, crédits) s’affichent pour lui.</Notice>}
      {acting && !acting.email && <GiveAddress member={acting} />}
      <form onSubmit={find} noValidate class="row row--end">
        <Field label="Nom, e-mail, téléphone ou numéro de membre" hint="Le numéro figure sur la page « Mes crédits » du membre ou sur sa carte.">
          {(p) => <input {...p} type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} autoComplete="off" />}
        </Field>
        <button type="submit" class="button" disabled={action.busy || !text.trim()}>
          Chercher
        </button>
      </form>
      <Alert error={action.error} />
      {found && found.length === 0 && <p role="status">Aucun membre ne correspond.</p>}
      {found && found.length > 0 && (
        <ul class="cards" aria-label="Membres trouvés">
          {found.map((m) => (
            <li class="card" key={m.id}>
              <p>
                <strong>{m.display_name}</strong> {m.member_number ? `· n° ${m.member_number}` : ""} {m.email ? `· ${m.email}` : ""}{" "}
                {m.phone ? `· ${m.phone}` : ""}
              </p>
              <button type="button" class="button" onClick={() => session.actFor(m)}>
                Agir pour {m.display_name}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

// A member registered at the desk gets an address when they have one (POST /v1/me/email while
// acting for them, no password: they have none). The link mailed to it makes it theirs, then a
// second mail lets them choose a password and log in themselves.
function GiveAddress({ member }: { member: PublicMember }) {
  const [email, setEmail] = useState("");
  const [sentTo, setSentTo] = useState("");
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    setSentTo("");
    void action.run(async () => {
      await post("/v1/me/email", { email: email.trim() });
      setSentTo(email.trim());
      setEmail("");
    });
  };
  const e = action.error;
  return (
    <form onSubmit={submit} noValidate aria-label={`Adresse e-mail de ${member.display_name}`}>
      {sentTo && (
        <Notice>
          Un lien de confirmation a été envoyé à {sentTo}. Quand {member.display_name} le suit, l’adresse devient la sienne et un second message lui permet de choisir son mot de passe.
        </Notice>
      )}
      <Alert error={e} />
      <Field label={`Adresse e-mail de ${member.display_name}`} hint="S’il ou elle en a une : vous pourrez toujours agir pour ce membre à l’accueil." error={fieldError(e, "email")}>
        {(p) => <input {...p} type="email" autoComplete="off" value={email} onInput={(ev) => setEmail(ev.currentTarget.value)} />}
      </Field>
      <button type="submit" class="button" disabled={action.busy || !email.trim()}>
        Envoyer le lien
      </button>
    </form>
  );
}

// A neighbour without e-mail is registered at the desk (POST /v1/members): no password, a short
// member number for their card; staff then serve them by acting for them.
function RegisterNeighbour({ site }: { site: Site }) {
  const [form, setForm] = useState({ name: "", phone: "" });
  const [created, setCreated] = useState<DeskMember | null>(null);
  const [nameError, setNameError] = useState("");
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    if (!form.name.trim()) return setNameError("Indiquez le nom ou le prénom de la personne.");
    setNameError("");
    setCreated(null);
    void action.run(async () => {
      const body = { display_name: form.name.trim(), home_site_id: site.id, ...(form.phone.trim() ? { phone: form.phone.trim() } : {}) };
      setCreated(await post<DeskMember>("/v1/members", body, self));
      setForm({ name: "", phone: "" });
    });
  };
  const e = action.error;
  return (
    <section aria-labelledby="titre-inscription">
      <h2 id="titre-inscription">Inscrire une personne sans e-mail</h2>
      <p class="hint">Elle est rattachée à {site.name}. Vous agirez pour elle à l’accueil ; elle pourra ajouter une adresse e-mail plus tard.</p>
      {created && (
        <div class="notice" role="status">
          <p>
            <strong>{created.display_name}</strong> est inscrit·e. Numéro de membre à noter sur sa carte : <strong data-testid="numero-inscrit">{created.member_number}</strong>
          </p>
          <button
            type="button"
            class="button"
            onClick={() => session.actFor({ id: created.id, display_name: created.display_name, home_site_id: created.home_site_id, member_number: created.member_number, phone: created.phone })}
          >
            Agir pour {created.display_name}
          </button>
        </div>
      )}
      <form onSubmit={submit} noValidate aria-label="Inscrire une personne sans e-mail">
        <Alert error={e} />
        <Field label="Nom ou prénom" error={nameError || fieldError(e, "display_name")}>
          {(p) => <input {...p} value={form.name} onInput={(ev) => setForm({ ...form, name: ev.currentTarget.value })} maxLength={80} autoComplete="off" />}
        </Field>
        <Field label="Téléphone (facultatif)" hint="Pour la retrouver ou la prévenir. Par exemple 06 12 34 56 78." error={fieldError(e, "phone")}>
          {(p) => <input {...p} type="tel" value={form.phone} onInput={(ev) => setForm({ ...form, phone: ev.currentTarget.value })} autoComplete="off" />}
        </Field>
        <button type="submit" class="button" disabled={action.busy}>
          Inscrire
        </button>
      </form>
    </section>
  );
}

function ExchangeList({ title, items, site }: { title: string; items: Exchange[]; site: string }) {
  const action = useAction();
  const [done, setDone] = useState<Record<string, string>>({});
  const resolve = (x: Exchange, outcome: "post" | "void") =>
    action.run(async () => {
      const answer = await post<Exchange>(`/v1/exchanges/${x.id}/resolve`, { outcome }, self);
      setDone({ ...done, [x.id]: answer.state });
    });
  // A loan between members handed over or brought back at the desk: staff confirm for both.
  const step = (x: Exchange, verb: "handover" | "return") =>
    action.run(async () => {
      const answer = await post<Exchange>(`/v1/exchanges/${x.id}/${verb}`, undefined, self);
      setDone({ ...done, [x.id]: answer.state });
    });
  return (
    <section aria-label={title}>
      <h3>{title}</h3>
      <Alert error={action.error} />
      {items.length === 0 ? (
        <p>Rien.</p>
      ) : (
        <ul class="cards">
          {items.map((x) => (
            <li class="card" key={x.id}>
              <p>
                <a href={`/echanges/${x.id}`}>{x.mode === "lend" ? "Prêt d’un objet" : x.mode === "swap" ? "Troc" : `Échange de ${formatMinutes(x.minutes)}`}</a> ·{" "}
                {STATE_LABEL[done[x.id] ?? x.state] ?? x.state} {x.scheduled_at && `· prévu ${formatDate(x.scheduled_at)}`}
              </p>
              {x.mode === "lend" && x.starts_at && <p class="hint">Prêt du {formatDate(x.starts_at)} au {formatDate(x.due_at)}</p>}
              {(x.mode === "lend" || x.mode === "swap") && x.state === "accepted" && !done[x.id] && (
                <button type="button" class="button" onClick={() => step(x, "handover")} aria-label={`Enregistrer la remise de l’objet, échange ${x.id.slice(0, 8)}`}>
                  Enregistrer la remise de l’objet
                </button>
              )}
              {x.mode === "lend" && ["handed_over", "late"].includes(done[x.id] ?? x.state) && (
                <button type="button" class="button" onClick={() => step(x, "return")} aria-label={`Enregistrer le retour de l’objet, échange ${x.id.slice(0, 8)}`}>
                  Enregistrer le retour de l’objet
                </button>
              )}
              {x.state === "disputed" && !done[x.id] && x.site_id === site && (
                <div class="row">
                  <button type="button" class="button" onClick={() => resolve(x, "post")}>Verser les crédits</button>
                  <button type="button" class="button button--light" onClick={() => resolve(x, "void")}>Annuler le versement</button>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Intake({ site, onDone }: { site: string; onDone: () => void }) {
  const tree = useLoad(categories, []);
  const acting = session.actingFor();
  const [form, setForm] = useState({ category: "", title: "", condition: "good", weight_kg: "", mode: "give" });
  const [fromActing, setFromActing] = useState(true);
  const [created, setCreated] = useState<Item | null>(null);
  const action = useAction();
  const set = (key: keyof typeof form) => (e: { currentTarget: HTMLInputElement | HTMLSelectElement }) =>
    setForm({ ...form, [key]: e.currentTarget.value });
  const [weightError, setWeightError] = useState("");
  const submit = (event: Event) => {
    event.preventDefault();
    const kg = Number(form.weight_kg.trim().replace(",", "."));
    if (!form.weight_kg.trim() || !Number.isFinite(kg) || kg <= 0 || kg > 1000) {
      setWeightError(WEIGHT_MESSAGE);
      return;
    }
    setWeightError("");
    void action.run(async () => {
      const weight_g = Math.round(kg * 1000);
      const body: Record<string, unknown> = { category: form.category, title: form.title, condition: form.condition, weight_g, mode: form.mode };
      if (acting && fromActing) body.dropped_by_member_id = acting.id;
      setCreated(await post<Item>(`/v1/sites/${site}/items`, body, self));
      setForm({ ...form, title: "", weight_kg: "" });
      onDone();
    });
  };
  const e = action.error;
  return (
    <section aria-labelledby="titre-depot">
      <h2 id="titre-depot">Réception d’un objet</h2>
      {created && <Notice>« {created.title} » est enregistré et disponible.</Notice>}
      <form onSubmit={submit} noValidate>
        <Alert error={e} />
        <Field label="Catégorie de l’objet" error={fieldError(e, "category")}>
          {(p) => (
            <select {...p} value={form.category} onChange={set("category")}>
              <option value="">Choisissez une catégorie</option>
              {flatten(tree.data ?? [])
                .filter((c) => c.kind === "good")
                .map((c) => (
                  <option key={c.slug} value={c.slug}>{`${"\u00a0\u00a0".repeat(c.depth)}${c.label}`}</option>
                ))}
            </select>
          )}
        </Field>
        <Field label="Nom de l’objet" error={fieldError(e, "title")}>
          {(p) => <input {...p} value={form.title} onInput={set("title")} maxLength={120} />}
        </Field>
        <Field label="État" error={fieldError(e, "condition")}>
          {(p) => (
            <select {...p} value={form.condition} onChange={set("condition")}>
              {Object.entries(CONDITION_LABEL).map(([value, label]) => <option key={value} value={value}>{label}</option>)}
            </select>
          )}
        </Field>
        <Field label="Poids (kg)" hint="Par exemple 1,5." error={weightError || (fieldError(e, "weight_g") ? WEIGHT_MESSAGE : undefined)}>
          {(p) => <input {...p} inputMode="decimal" value={form.weight_kg} onInput={set("weight_kg")} />}
        </Field>
        <Field label="L’objet est" error={fieldError(e, "mode")}>
          {(p) => (
            <select {...p} value={form.mode} onChange={set("mode")}>
              <option value="give">à donner</option>
              <option value="lend">à prêter (objetothèque)</option>
            </select>
          )}
        </Field>
        {acting && (
          <label class="choice">
            <input type="checkbox" checked={fromActing} onChange={(ev) => setFromActing(ev.currentTarget.checked)} /> Déposé par {acting.display_name} (il reçoit les crédits de dépôt)
          </label>
        )}
        <button type="submit" class="button" disabled={action.busy}>
          Enregistrer l’objet
        </button>
      </form>
    </section>
  );
}

function ItemActions({ item, reload }: { item: Item; reload: () => Promise<void> }) {
  const action = useAction();
  const [outlet, setOutlet] = useState("reuse");
  const [condition, setCondition] = useState("good");
  const [due, setDue] = useState(() => dayOf(new Date(Date.now() + LOAN_DAYS * DAY_MS)));
  const [dueError, setDueError] = useState("");
  const acting = session.actingFor();
  // The object comes back on the evening of the day chosen (the site's local day).
  const lend = () => {
    if (!due || due <= dayOf(new Date())) return setDueError("Choisissez un jour de retour après aujourd’hui.");
    setDueError("");
    void act("lend", { member_id: borrower, due_at: dayAt(due, "19:00") });
  };
  const act = (verb: string, body?: unknown) =>
    action.run(async () => {
      await post(`/v1/items/${item.id}/${verb}`, body, self);
      await reload();
    });
  const borrower = item.reserved_by_member_id ?? acting?.id;
  const name = item.title ?? "objet";
  return (
    <div>
      <Alert error={action.error} />
      <div class="row row--end">
        {item.status === "reserved" && item.mode === "give" && (
          <button type="button" class="button" onClick={() => act("collect", { member_id: item.reserved_by_member_id ?? undefined })} aria-label={`Remettre : ${name}`}>
            Remettre
          </button>
        )}
        {(item.status === "reserved" || item.status === "available") && item.mode === "lend" && borrower && (
          <>
            <Field label={`Retour de ${name} prévu le`} error={dueError}>
              {(p) => <input {...p} type="date" value={due} onInput={(e) => setDue(e.currentTarget.value)} />}
            </Field>
            <button type="button" class="button" onClick={lend} aria-label={`Prêter : ${name}`}>
              Prêter
            </button>
          </>
        )}
        {item.status === "reserved" && (
          <button type="button" class="button button--light" onClick={() => act("release")} aria-label={`Libérer la réservation : ${name}`}>
            Libérer
          </button>
        )}
        {item.status === "on_loan" && (
          <>
            <Field label={`État au retour de ${name}`}>
              {(p) => (
                <select {...p} value={condition} onChange={(e) => setCondition(e.currentTarget.value)}>
                  {Object.entries(CONDITION_LABEL).map(([value, label]) => <option key={value} value={value}>{label}</option>)}
                </select>
              )}
            </Field>
            <button type="button" class="button" onClick={() => act("return", { condition })}>Enregistrer le retour</button>
          </>
        )}
        {item.status === "available" && (
          <>
            <Field label={`Réorienter ${name} vers`}>
              {(p) => (
                <select {...p} value={outlet} onChange={(e) => setOutlet(e.currentTarget.value)}>
                  <option value="reuse">le réemploi (autre structure)</option>
                  <option value="recycle">le recyclage</option>
                  <option value="waste">la déchetterie</option>
                </select>
              )}
            </Field>
            <button type="button" class="button button--light" onClick={() => act("redirect", { outlet })}>Réorienter</button>
          </>
        )}
      </div>
    </div>
  );
}

function ItemList({ title, items, reload, labelOf }: { title: string; items: Item[]; reload: () => Promise<void>; labelOf: (slug: string) => string }) {
  return (
    <section aria-label={title}>
      <h3>{title}</h3>
      {items.length === 0 ? (
        <p>Aucun objet.</p>
      ) : (
        <ul class="cards">
          {items.map((item) => (
            <li class="card" key={item.id}>
              <p>
                <strong>{item.title}</strong> · {labelOf(item.category)} · {CONDITION_LABEL[item.condition] ?? item.condition} ·{" "}
                {(item.weight_g / 1000).toLocaleString("fr-FR")} kg {item.reserved_until && `· réservé jusqu’au ${formatDate(item.reserved_until)}`}
                {item.due_at && `· retour prévu le ${formatDate(item.due_at)}`}
                {item.status === "on_loan" && item.due_at && Date.parse(item.due_at) < Date.now() && (
                  <>
                    {" "}
                    <span class="badge badge--late">En retard</span>
                  </>
                )}
              </p>
              <ItemActions item={item} reload={reload} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function sitePage(site: string, status: string): Promise<Page<Item>> {
  return get<Page<Item>>(`/v1/sites/${site}/items${query({ status, limit: 100 })}`, self);
}

async function siteItems(site: string, status: string): Promise<Item[]> {
  return (await sitePage(site, status)).items;
}

// The desk's list of objects to hand out is a copy that lags behind the depot, both ways (an
// object reserved a moment ago, one handed out a moment ago). The depot's reserved list is the
// truth when it came whole; a longer one is merged with the desk's.
function toHandOut(desk: Item[], reserved: Page<Item>): Item[] {
  if (!reserved.next_cursor) return reserved.items;
  const seen = new Map(desk.map((i) => [i.id, i]));
  for (const item of reserved.items) seen.set(item.id, item);
  return [...seen.values()];
}

// The sheet of QR labels to stick on the objects (GET /v1/sites/{id}/labels.pdf): a PDF the
// browser opens itself, with the session cookie; each QR opens the object's page.
function Labels({ site, items }: { site: Site; items: Item[] }) {
  const ids = [...new Set(items.map((i) => i.id))];
  const href = `/v1/sites/${site.id}/labels.pdf${ids.length ? `?items=${ids.join(",")}` : ""}`;
  return (
    <section aria-labelledby="titre-etiquettes">
      <h2 id="titre-etiquettes">Étiquettes</h2>
      <p>
        <a class="button button--light" href={href} target="_blank" rel="noopener">
          Imprimer les étiquettes des objets ({ids.length}) <span class="sr-only">(PDF, nouvel onglet)</span>
        </a>
      </p>
      <p class="hint">Une planche A4 de codes QR : collez-les sur les objets ; scannés, ils ouvrent la fiche de l’objet.</p>
    </section>
  );
}

function SiteDesk({ site }: { site: Site }) {
  const tree = useLoad(categories, []);
  const desk = useLoad(async () => {
    const [summary, reserved, available, onLoan] = await Promise.all([
      get<Desk>(`/v1/sites/${site.id}/desk`, self),
      sitePage(site.id, "reserved"),
      siteItems(site.id, "available"),
      siteItems(site.id, "on_loan"),
    ]);
    return { summary, handOut: toHandOut(summary.items_to_hand_out, reserved), available, onLoan };
  }, [site.id]);
  const labelOf = (slug: string) => categoryLabel(tree.data, slug);
  const d = desk.data;
  return (
    <>
      <section aria-labelledby="titre-jour">
        <div class="section-head">
          <h2 id="titre-jour">Aujourd’hui à {site.name}</h2>
          <button type="button" class="button button--light" onClick={() => void desk.reload()}>Actualiser</button>
        </div>
        <Alert error={desk.error} />
        <Loading when={desk.loading && !d}>
          {d && (
            <>
              <ExchangeList title="Échanges prévus aujourd’hui" items={d.summary.due_today} site={site.id} />
              <ExchangeList title="Litiges" items={d.summary.disputed} site={site.id} />
              <ExchangeList title="Échanges en retard" items={d.summary.overdue} site={site.id} />
              <ItemList title="Objets à remettre" items={d.handOut} reload={desk.reload} labelOf={labelOf} />
              <ItemList title="Objets non réclamés à réorienter" items={d.summary.items_to_redirect ?? []} reload={desk.reload} labelOf={labelOf} />
              <ItemList title="Objets prêtés" items={d.onLoan} reload={desk.reload} labelOf={labelOf} />
              <ItemList title="Objets disponibles" items={d.available} reload={desk.reload} labelOf={labelOf} />
            </>
          )}
        </Loading>
      </section>
      <Intake site={site.id} onDone={() => void desk.reload()} />
      <Labels site={site} items={d ? [...d.available, ...d.onLoan, ...d.handOut] : []} />
      <RegisterNeighbour site={site} />
      <p>
        <a href={`/kiosk?site=${site.id}`}>Ouvrir la borne de ce lieu</a>
      </p>
    </>
  );
}

export function DeskPage() {
  const me = session.me();
  const all = useLoad(sites, []);
  const [siteId, setSiteId] = useState(() => sessionStorage.getItem("maillon.desk-site") ?? me?.staff_site_ids[0] ?? "");
  const admin = me?.roles.includes("admin") ?? false;
  const site = all.data?.find((s) => s.id === siteId);
  const choose = (s: Site | undefined) => {
    setSiteId(s?.id ?? "");
    if (s) sessionStorage.setItem("maillon.desk-site", s.id);
  };
  if (!session.isStaff()) {
    return (
      <>
        <PageTitle>Conciergerie</PageTitle>
        <p>Cette page est réservée aux personnes qui tiennent l’accueil d’un lieu.</p>
      </>
    );
  }
  return (
    <>
      <PageTitle>Conciergerie</PageTitle>
      <SitePicker label="Lieu" value={siteId} onChange={choose} only={(s) => admin || (me?.staff_site_ids.includes(s.id) ?? false)} />
      <FindMember />
      {site && <SiteDesk key={site.id} site={site} />}
    </>
  );
}
