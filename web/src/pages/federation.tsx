// "Communautés partenaires": a community's federation links (GET /v1/federation/links), seen
// from it: the partner, the state, both limits, the balance in words (who owes whom), the rate
// when not 1:1, what is under way. Its administrators propose a link to another community (of
// this installation, or of another one by its address and the community's id), accept a
// partner's proposal with their own limits, suspend a link and compare the two mirror clearing
// accounts (the reconciliation). Staff of its sites see the links, read-only.
import { useState } from "preact/hooks";
import { ApiError, get, post, query } from "../api";
import { sites } from "../catalog";
import { session } from "../session";
import { communityName, networkLabel } from "../sitepicker";
import type { Site } from "../types";
import { Alert, ChoiceField, ConfirmButton, Field, Loading, Notice, PageTitle, formatDate, formatMinutes, useAction, useId, useLoad } from "../ui";

interface FederationLink {
  id: string;
  community_id: string;
  partner: { community_id: string; name?: string; url?: string };
  state: "proposed" | "active" | "suspended";
  proposed_by_us: boolean;
  suspended_by_us?: boolean;
  suspended_by_partner?: boolean;
  debit_limit_minutes: number;
  credit_limit_minutes: number;
  rate: number;
  balance_minutes: number;
  pending_debit_minutes: number;
  pending_credit_minutes: number;
  created_at: string;
  updated_at: string;
}

interface ClearingSide {
  community_id: string;
  account_id: string;
  balance_minutes: number;
  pending_debit_minutes: number;
  pending_credit_minutes: number;
  rate: number;
}

interface Leg {
  state: string;
  paid_across: boolean;
  amount_minutes: number;
  posted_minutes: number;
}

interface Reconciliation {
  link_id: string;
  community_id: string;
  ours: ClearingSide;
  theirs: ClearingSide | null;
  differences: { transfer_id: string; kind: string; ours: Leg | null; theirs: Leg | null }[];
  truncated: boolean;
  in_flight?: number;
  mirror_agrees?: boolean;
}

interface Community {
  id: string;
  label: string;
}

const STATE_WORDS: Record<FederationLink["state"], string> = {
  proposed: "Proposée",
  active: "Active",
  suspended: "Suspendue",
};

const DIFFERENCE_WORDS: Record<string, string> = {
  missing_ours: "absent de notre compte",
  missing_theirs: "absent de leur compte",
  direction: "enregistré dans un sens différent",
  state: "état différent",
  amount: "montant différent",
};

const LEG_STATE_WORDS: Record<string, string> = {
  pending: "en attente",
  posted: "passé",
  voided: "annulé",
  expired: "expiré",
};

// The API's refusals for links, in the words of the people who run a community.
const CODE_WORDS: Record<string, string> = {
  "own-proposal": "Votre communauté a proposé ce lien : c’est à la communauté partenaire de l’accepter.",
  "link-exists": "Un lien existe déjà avec cette communauté (proposé, actif ou suspendu) : retrouvez-le dans la liste ci-dessus.",
  "link-not-proposed": "Ce lien a été suspendu : il ne peut plus être accepté.",
  "link-not-suspended": "Ce lien n’est plus suspendu : rechargez la page.",
  "same-community": "Une communauté ne peut pas se lier à elle-même : choisissez une autre communauté.",
  "too-many-links": "Cette communauté a atteint le nombre maximal de 200 liens.",
  "federation-limit": "La limite de ce lien est atteinte dans ce sens : les échanges reprendront quand les comptes se seront rééquilibrés.",
  "no-federation-link": "Aucun lien actif avec cette communauté : le lien est encore proposé, ou il a été suspendu.",
  "partner-unreachable": "L’installation partenaire ne répond pas pour le moment : réessayez plus tard.",
};

const STATUS_WORDS: Record<number, string> = {
  403: "Seuls les administrateurs de cette communauté gèrent ses liens avec d’autres communautés.",
  404: "Lien ou communauté introuvable : vérifiez l’adresse de l’installation et l’identifiant de la communauté partenaire.",
  409: "Ce lien a changé entre-temps : rechargez la page.",
};

const FIELD_WORDS: Record<string, string> = {
  debit_limit_minutes: "Indiquez une durée entre 0 et 100 000 heures.",
  credit_limit_minutes: "Indiquez une durée entre 0 et 100 000 heures.",
  rate: "Indiquez un taux entre 0,01 et 100.",
  "partner.community_id": "Indiquez l’identifiant de la communauté partenaire (un UUID).",
  "partner.url": "Indiquez l’adresse de l’installation, commençant par https:// ou http://.",
  partner: "Choisissez une communauté partenaire.",
};

/** The API's refusal put into plain French (the fields keep their own messages). */
function inWords(error: unknown): unknown {
  if (!(error instanceof ApiError)) return error;
  const detail = CODE_WORDS[error.code] ?? (error.status === 400 ? "Certains champs sont à corriger." : STATUS_WORDS[error.status]) ?? error.detail;
  const fields = error.fields.map((f) => ({ field: f.field, message: FIELD_WORDS[f.field] ?? f.message }));
  return new ApiError(error.status, error.code, detail, fields);
}

/** Runs an action whose refusal is shown in plain French. */
function useFederationAction() {
  const action = useAction();
  const run = (work: () => Promise<void>) =>
    action.run(async () => {
      try {
        await work();
      } catch (e) {
        throw inWords(e);
      }
    });
  return { ...action, run };
}

function partnerName(link: FederationLink): string {
  if (link.partner.name) return link.partner.name;
  if (link.partner.url) return `Communauté ${link.partner.community_id.slice(0, 8)} de ${link.partner.url}`;
  return `Communauté ${link.partner.community_id.slice(0, 8)}`;
}

/** The rate read the way round that gives at least 1: "1 minute de chez nous vaut 1,5 minute chez X". */
function rateInWords(rate: number, name: string): string {
  const n = (x: number) => x.toLocaleString("fr-FR", { maximumFractionDigits: 4 });
  const minutes = (x: number) => `${n(x)} minute${x >= 2 ? "s" : ""}`;
  if (rate >= 1) return `1 minute de chez nous vaut ${minutes(rate)} chez ${name}.`;
  return `1 minute de chez ${name} vaut ${minutes(1 / rate)} chez nous.`;
}

/**
 * Who owes whom, from this community's side: the balance is what the partner owes it, positive
 * when our members paid its members more minutes across the link than they received from them.
 */
function balanceInWords(link: FederationLink, name: string): string {
  const b = link.balance_minutes;
  if (b > 0) return `${name} nous doit ${formatMinutes(b)} : nos membres ont payé à ses membres ${formatMinutes(b)} de plus qu’ils n’en ont reçu d’eux.`;
  if (b < 0) return `Nous devons ${formatMinutes(-b)} à ${name} : nos membres ont reçu de ses membres ${formatMinutes(-b)} de plus qu’ils ne leur en ont payé.`;
  return "Les comptes sont à l’équilibre : personne ne doit rien à personne.";
}

// ------------------------------------------------------------------------------ durations
interface Duration {
  hours: string;
  minutes: string;
}

const MAX_LIMIT_MINUTES = 6_000_000;

function toDuration(minutes: number): Duration {
  return { hours: String(Math.floor(minutes / 60)), minutes: String(minutes % 60) };
}

/** Hours and minutes as typed → minutes, or null when they are not whole numbers in range. */
function fromDuration(d: Duration): number | null {
  const h = d.hours.trim() === "" ? 0 : Number(d.hours.trim());
  const m = d.minutes.trim() === "" ? 0 : Number(d.minutes.trim());
  if (!Number.isInteger(h) || !Number.isInteger(m) || h < 0 || m < 0 || m > 59) return null;
  const total = h * 60 + m;
  return total <= MAX_LIMIT_MINUTES ? total : null;
}

/** A limit typed as hours and minutes: one group, its legend says what it limits. */
function DurationField({ legend, hint, value, onChange, error }: { legend: string; hint?: string; value: Duration; onChange: (d: Duration) => void; error?: string }) {
  const id = useId("duree");
  const described = [hint ? `${id}-aide` : "", error ? `${id}-erreur` : ""].filter(Boolean).join(" ") || undefined;
  return (
    <fieldset class={error ? "duration field--error" : "duration"} aria-describedby={described}>
      <legend>{legend}</legend>
      {hint && (
        <p class="hint" id={`${id}-aide`}>
          {hint}
        </p>
      )}
      <div class="duration-parts">
        <div class="field">
          <label for={`${id}-h`}>Heures</label>
          <input id={`${id}-h`} inputMode="numeric" autoComplete="off" aria-invalid={error ? "true" : undefined} value={value.hours} onInput={(e) => onChange({ ...value, hours: e.currentTarget.value })} />
        </div>
        <div class="field">
          <label for={`${id}-m`}>Minutes</label>
          <input id={`${id}-m`} inputMode="numeric" autoComplete="off" aria-invalid={error ? "true" : undefined} value={value.minutes} onInput={(e) => onChange({ ...value, minutes: e.currentTarget.value })} />
        </div>
      </div>
      {error && (
        <p class="field-error" id={`${id}-erreur`}>
          {error}
        </p>
      )}
    </fieldset>
  );
}

const DURATION_ERROR = "Indiquez des heures et des minutes entières (minutes de 0 à 59), par exemple 10 heures 30 minutes ; 0 pour aucun échange dans ce sens.";

/** Both limits, checked: the minutes, or the errors to show beside each. */
function readLimits(debit: Duration, credit: Duration) {
  const debit_limit_minutes = fromDuration(debit);
  const credit_limit_minutes = fromDuration(credit);
  const errors: Record<string, string> = {};
  if (debit_limit_minutes === null) errors.debit_limit_minutes = DURATION_ERROR;
  if (credit_limit_minutes === null) errors.credit_limit_minutes = DURATION_ERROR;
  return { debit_limit_minutes, credit_limit_minutes, errors };
}

function apiField(error: unknown, name: string): string | undefined {
  return error instanceof ApiError ? error.field(name) : undefined;
}

// ------------------------------------------------------------------------------ one link
/** One side's clearing account: its balance (what the other side owes it) and what is under way. */
function ClearingFacts({ title, side, owner, other }: { title: string; side: ClearingSide; owner: string; other: string }) {
  return (
    <div class="recon-side">
      <h5>{title}</h5>
      <dl class="facts">
        <dt>Solde du compte</dt>
        <dd>{formatMinutes(side.balance_minutes)}</dd>
        <dt>Paiements en cours vers {owner}</dt>
        <dd>{formatMinutes(side.pending_debit_minutes)}</dd>
        <dt>Paiements en cours vers {other}</dt>
        <dd>{formatMinutes(side.pending_credit_minutes)}</dd>
      </dl>
    </div>
  );
}

function ReconciliationView({ link, community, name }: { link: FederationLink; community: string; name: string }) {
  const report = useLoad(
    async () => {
      try {
        return await get<Reconciliation>(`/v1/federation/links/${link.id}/reconciliation${query({ community_id: community })}`, { asSelf: true });
      } catch (e) {
        throw inWords(e);
      }
    },
    [link.id, community],
  );
  const r = report.data;
  const leg = (l: Leg | null) => (l ? `${formatMinutes(l.amount_minutes)}, ${LEG_STATE_WORDS[l.state] ?? l.state}, ${l.paid_across ? "payé par nos membres" : "reçu par nos membres"}` : "absent");
  const theirLeg = (l: Leg | null) => (l ? `${formatMinutes(l.amount_minutes)}, ${LEG_STATE_WORDS[l.state] ?? l.state}, ${l.paid_across ? "payé par leurs membres" : "reçu par leurs membres"}` : "absent");
  return (
    <section class="reconciliation" aria-label={`Rapprochement avec ${name}`}>
      <h4>Rapprochement des comptes</h4>
      <Alert error={report.error} />
      <Loading when={report.loading && !r}>
        {r && (
          <>
            <p class="hint">
              Chaque communauté tient un compte de compensation pour l’autre : son solde est ce que l’autre lui doit, dans ses propres minutes. Les deux comptes doivent se refléter, transfert par transfert.
            </p>
            <div class="recon-sides">
              <ClearingFacts title="Chez nous" side={r.ours} owner="nous" other={name} />
              {r.theirs ? (
                <ClearingFacts title={`Chez ${name}`} side={r.theirs} owner={name} other="nous" />
              ) : (
                <div class="recon-side">
                  <h5>Chez {name}</h5>
                  <p>Son compte n’a pas été communiqué.</p>
                </div>
              )}
            </div>
            {r.in_flight ? <p>{r.in_flight} paiement(s) en cours entre les deux installations ne sont pas encore comparés.</p> : null}
            {r.truncated && <p>Seuls les 100 000 premiers transferts ont été comparés.</p>}
            {r.differences.length === 0 ? (
              <Notice>Aucune différence : les deux comptes concordent, transfert par transfert.</Notice>
            ) : (
              <>
                <p class="alert" role="alert">
                  {r.differences.length === 1 ? "1 différence" : `${r.differences.length} différences`} entre les deux comptes : les administrateurs des deux communautés en sont prévenus.
                </p>
                <div class="table-wrap">
                  <table>
                    <caption class="sr-only">Différences entre les deux comptes</caption>
                    <thead>
                      <tr>
                        <th scope="col">Transfert</th>
                        <th scope="col">Différence</th>
                        <th scope="col">Chez nous</th>
                        <th scope="col">Chez {name}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {r.differences.map((d) => (
                        <tr key={d.transfer_id}>
                          <td>
                            <code>{d.transfer_id}</code>
                          </td>
                          <td>{DIFFERENCE_WORDS[d.kind] ?? d.kind}</td>
                          <td>{leg(d.ours)}</td>
                          <td>{theirLeg(d.theirs)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </>
            )}
            <button type="button" class="button button--light" disabled={report.loading} onClick={() => void report.reload()}>
              Comparer à nouveau
            </button>
          </>
        )}
      </Loading>
    </section>
  );
}

function AcceptForm({ link, name, onDone }: { link: FederationLink; name: string; onDone: (l: FederationLink) => void }) {
  const [debit, setDebit] = useState(() => toDuration(link.debit_limit_minutes));
  const [credit, setCredit] = useState(() => toDuration(link.credit_limit_minutes));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const action = useFederationAction();
  const submit = (event: Event) => {
    event.preventDefault();
    const limits = readLimits(debit, credit);
    setErrors(limits.errors);
    if (Object.keys(limits.errors).length) return;
    void action.run(async () => {
      const body = { debit_limit_minutes: limits.debit_limit_minutes, credit_limit_minutes: limits.credit_limit_minutes };
      onDone(await post<FederationLink>(`/v1/federation/links/${link.id}/accept`, body, { asSelf: true }));
    });
  };
  const e = action.error;
  return (
    <form class="inline-form" onSubmit={submit} noValidate aria-label={`Accepter le lien avec ${name}`}>
      <p>Fixez vos propres limites avant d’accepter : elles s’appliquent à votre communauté.</p>
      <Alert error={e} />
      <DurationField legend="Nos membres peuvent lui devoir au plus" value={debit} onChange={setDebit} error={errors.debit_limit_minutes ?? apiField(e, "debit_limit_minutes")} />
      <DurationField legend="Elle peut nous devoir au plus" value={credit} onChange={setCredit} error={errors.credit_limit_minutes ?? apiField(e, "credit_limit_minutes")} />
      <button type="submit" class="button" disabled={action.busy}>
        Accepter le lien
      </button>
    </form>
  );
}

function LinkCard({ link, community, manage, onChange }: { link: FederationLink; community: string; manage: boolean; onChange: (l: FederationLink) => void }) {
  const [done, setDone] = useState("");
  const [reconciling, setReconciling] = useState(false);
  const action = useFederationAction();
  const name = partnerName(link);
  const headingId = useId("lien");
  const suspend = () =>
    action.run(async () => {
      onChange(await post<FederationLink>(`/v1/federation/links/${link.id}/suspend${query({ community_id: community })}`, undefined, { asSelf: true }));
      setDone(`Le lien avec ${name} est suspendu : plus aucun échange ne le traverse.`);
    });
  // Only our own suspension is ours to lift: the link stays suspended while the partner's stands.
  const resume = () =>
    action.run(async () => {
      const next = await post<FederationLink>(`/v1/federation/links/${link.id}/resume${query({ community_id: community })}`, undefined, { asSelf: true });
      onChange(next);
      setDone(
        next.state === "active"
          ? `Les échanges avec ${name} reprennent.`
          : next.state === "proposed"
            ? `Le lien avec ${name} attend de nouveau son acceptation.`
            : `Notre suspension est levée, mais ${name} a aussi suspendu le lien : les échanges reprendront quand ${name} le reprendra.`,
      );
    });
  const pending = link.pending_credit_minutes > 0 || link.pending_debit_minutes > 0;
  return (
    <li class="card link-card" data-state={link.state}>
      <div class="section-head">
        <h3 id={headingId}>{name}</h3>
        <span class={`badge badge--${link.state}`} data-testid="etat-lien">
          {STATE_WORDS[link.state]}
        </span>
      </div>
      {link.partner.url && <p class="hint">Autre installation : {link.partner.url}</p>}
      <p>
        {link.state === "proposed" && link.proposed_by_us && `Proposé par notre communauté : en attente de l’acceptation de ${name}.`}
        {link.state === "proposed" && !link.proposed_by_us && `${name} propose ce lien : il sera actif quand notre communauté l’aura accepté.`}
        {link.state === "active" && "Les membres des deux communautés peuvent échanger et se payer en minutes."}
        {link.state === "suspended" && "Suspendu : aucun nouvel échange ni paiement ne traverse ce lien."}
        {link.state === "suspended" && link.suspended_by_partner && !link.suspended_by_us && ` ${name} l’a suspendu : les échanges reprendront quand ${name} le reprendra.`}
      </p>
      <dl class="facts">
        <dt>Solde</dt>
        <dd data-testid="solde-lien">{balanceInWords(link, name)}</dd>
        <dt>Nos membres peuvent lui devoir</dt>
        <dd>jusqu’à {formatMinutes(link.debit_limit_minutes)}</dd>
        <dt>Elle peut nous devoir</dt>
        <dd>jusqu’à {formatMinutes(link.credit_limit_minutes)}</dd>
        {link.rate !== 1 && (
          <>
            <dt>Taux</dt>
            <dd>{rateInWords(link.rate, name)}</dd>
          </>
        )}
        {pending && (
          <>
            <dt>En cours</dt>
            <dd>
              {formatMinutes(link.pending_debit_minutes)} en route vers nous, {formatMinutes(link.pending_credit_minutes)} vers {name}
            </dd>
          </>
        )}
        <dt>Depuis le</dt>
        <dd>{formatDate(link.created_at)}</dd>
      </dl>
      <Alert error={action.error} />
      {done && <Notice>{done}</Notice>}
      {manage && link.state === "proposed" && !link.proposed_by_us && (
        <AcceptForm
          link={link}
          name={name}
          onDone={(next) => {
            onChange(next);
            setDone(`Le lien avec ${name} est actif.`);
          }}
        />
      )}
      {manage && (
        <div class="row">
          {link.state !== "suspended" && (
            <ConfirmButton
              label="Suspendre le lien"
              ariaLabel={`Suspendre le lien avec ${name}`}
              question={`Suspendre le lien avec ${name} ? Plus aucun échange ne passera entre les deux communautés ; les paiements déjà engagés se termineront.`}
              yes="Oui, suspendre"
              disabled={action.busy}
              onConfirm={() => void suspend()}
            />
          )}
          {link.state === "suspended" && link.suspended_by_us && (
            <ConfirmButton
              label="Reprendre les échanges"
              ariaLabel={`Reprendre les échanges avec ${name}`}
              question={`Reprendre les échanges avec ${name} ? Les membres des deux communautés pourront de nouveau échanger et se payer à travers ce lien${link.suspended_by_partner ? ` dès que ${name} aura aussi levé sa suspension` : ""}.`}
              yes="Oui, reprendre"
              danger={false}
              disabled={action.busy}
              onConfirm={() => void resume()}
            />
          )}
          {link.state !== "proposed" && (
            <button type="button" class="button button--light" aria-expanded={reconciling} onClick={() => setReconciling(!reconciling)}>
              {reconciling ? "Masquer le rapprochement" : "Voir le rapprochement"}
            </button>
          )}
        </div>
      )}
      {reconciling && <ReconciliationView link={link} community={community} name={name} />}
    </li>
  );
}

// ------------------------------------------------------------------------------ proposing
function ProposeForm({ community, communities, onDone }: { community: string; communities: Community[]; onDone: () => void }) {
  const [proposed, setProposed] = useState("");
  const [where, setWhere] = useState<"here" | "elsewhere">("here");
  const [partner, setPartner] = useState("");
  const [url, setUrl] = useState("");
  const [partnerId, setPartnerId] = useState("");
  const [debit, setDebit] = useState<Duration>({ hours: "10", minutes: "0" });
  const [credit, setCredit] = useState<Duration>({ hours: "10", minutes: "0" });
  const [rate, setRate] = useState("1");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const action = useFederationAction();
  const choices = communities.filter((c) => c.id !== community);
  const submit = (event: Event) => {
    event.preventDefault();
    setProposed("");
    const limits = readLimits(debit, credit);
    const found = { ...limits.errors };
    const rateValue = Number(rate.trim().replace(",", "."));
    if (!rate.trim() || !Number.isFinite(rateValue) || rateValue < 0.01 || rateValue > 100) found.rate = "Indiquez un taux entre 0,01 et 100, par exemple 1 ou 1,5.";
    let body_partner: { community_id: string; url?: string };
    let label: string;
    if (where === "here") {
      if (!partner) found.partner = "Choisissez la communauté partenaire.";
      body_partner = { community_id: partner };
      label = choices.find((c) => c.id === partner)?.label ?? "la communauté partenaire";
    } else {
      const id = partnerId.trim().toLowerCase();
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) found.partner_id = "Indiquez l’identifiant de la communauté, par exemple 3f2b6c1e-0a4d-4e8f-9b1a-2c3d4e5f6a7b.";
      if (url.trim() && !/^https?:\/\/\S+$/.test(url.trim())) found.url = "Indiquez une adresse commençant par https:// ou http://.";
      body_partner = url.trim() ? { community_id: id, url: url.trim() } : { community_id: id };
      label = url.trim() ? `la communauté ${id.slice(0, 8)} de ${url.trim()}` : `la communauté ${id.slice(0, 8)}`;
    }
    setErrors(found);
    if (Object.keys(found).length) return;
    void action.run(async () => {
      await post<FederationLink>(
        "/v1/federation/links",
        {
          community_id: community,
          partner: body_partner,
          debit_limit_minutes: limits.debit_limit_minutes,
          credit_limit_minutes: limits.credit_limit_minutes,
          ...(rateValue !== 1 ? { rate: rateValue } : {}),
        },
        { asSelf: true },
      );
      setPartner("");
      setPartnerId("");
      setUrl("");
      setProposed(label);
      onDone();
    });
  };
  const e = action.error;
  return (
    <form onSubmit={submit} noValidate aria-labelledby="proposer-lien">
      <h2 id="proposer-lien">Proposer un lien</h2>
      <p class="hint">Le lien devient actif quand un administrateur de la communauté partenaire l’accepte, avec ses propres limites.</p>
      <Alert error={e} />
      {proposed && <Notice>Lien proposé à {proposed}. Il deviendra actif quand son administrateur l’aura accepté.</Notice>}
      <fieldset>
        <legend>Où est la communauté partenaire ?</legend>
        <label class="choice">
          <input type="radio" name="ou" checked={where === "here"} onChange={() => setWhere("here")} />
          Sur cette installation
        </label>
        <label class="choice">
          <input type="radio" name="ou" checked={where === "elsewhere"} onChange={() => setWhere("elsewhere")} />
          Par son identifiant (ici ou sur une autre installation)
        </label>
      </fieldset>
      {where === "here" ? (
        <ChoiceField
          label="Communauté partenaire"
          hint="Chaque communauté est nommée par ses lieux."
          error={errors.partner ?? apiField(e, "partner.community_id") ?? apiField(e, "partner")}
          value={partner}
          onChange={setPartner}
          choices={choices}
          placeholder="Choisissez une communauté"
        />
      ) : (
        <>
          <Field label="Adresse de l’installation partenaire" hint="Par exemple https://maillon.tiers-lieu-voisin.fr ; vide si la communauté est sur cette installation." error={errors.url ?? apiField(e, "partner.url")}>
            {(p) => <input {...p} type="url" inputMode="url" autoComplete="url" value={url} onInput={(ev) => setUrl(ev.currentTarget.value)} />}
          </Field>
          <Field label="Identifiant de la communauté partenaire" hint="Son administrateur le trouve sur sa page « Communautés partenaires »." error={errors.partner_id ?? apiField(e, "partner.community_id") ?? apiField(e, "partner")}>
            {(p) => <input {...p} autoComplete="off" spellcheck={false} value={partnerId} onInput={(ev) => setPartnerId(ev.currentTarget.value)} />}
          </Field>
        </>
      )}
      <DurationField
        legend="Nos membres pourront lui devoir au plus"
        hint="Au-delà, nos membres ne peuvent plus recevoir de ses membres tant que les comptes ne se sont pas rééquilibrés."
        value={debit}
        onChange={setDebit}
        error={errors.debit_limit_minutes ?? apiField(e, "debit_limit_minutes")}
      />
      <DurationField
        legend="Elle pourra nous devoir au plus"
        hint="Au-delà, ses membres ne peuvent plus recevoir des nôtres tant que les comptes ne se sont pas rééquilibrés."
        value={credit}
        onChange={setCredit}
        error={errors.credit_limit_minutes ?? apiField(e, "credit_limit_minutes")}
      />
      <Field label="Taux" hint="Minutes de la communauté partenaire pour une des nôtres ; 1 si une heure vaut une heure." error={errors.rate ?? apiField(e, "rate")}>
        {(p) => <input {...p} inputMode="decimal" value={rate} onInput={(ev) => setRate(ev.currentTarget.value)} />}
      </Field>
      <button type="submit" class="button" disabled={action.busy}>
        Proposer le lien
      </button>
    </form>
  );
}

// ------------------------------------------------------------------------------ the page
function CommunityLinks({ community, label, communities }: { community: string; label: string; communities: Community[] }) {
  const manage = session.administers(community);
  const links = useLoad(
    async () => {
      try {
        return (await get<{ items: FederationLink[] }>(`/v1/federation/links${query({ community_id: community })}`, { asSelf: true })).items;
      } catch (e) {
        throw inWords(e);
      }
    },
    [community],
  );
  const list = links.data ?? [];
  const waiting = list.filter((l) => l.state === "proposed" && !l.proposed_by_us).length;
  return (
    <>
      <section aria-labelledby="liens-existants">
        <div class="section-head">
          <h2 id="liens-existants">Liens de {label}</h2>
          <button type="button" class="button button--light" disabled={links.loading} onClick={() => void links.reload()}>
            Actualiser
          </button>
        </div>
        {!manage && <Notice>Vous consultez ces liens sans pouvoir les modifier : seuls les administrateurs de la communauté les gèrent.</Notice>}
        {manage && (
          <p class="hint">
            Identifiant de votre communauté, à donner à une communauté d’une autre installation : <code>{community}</code>
          </p>
        )}
        <Alert error={links.error} />
        {waiting > 0 && manage && <p role="status">{waiting === 1 ? "Une proposition attend votre réponse." : `${waiting} propositions attendent votre réponse.`}</p>}
        <Loading when={links.loading && !links.data}>
          {links.data && list.length === 0 && <p>Aucun lien pour l’instant : cette communauté n’échange qu’avec ses propres membres.</p>}
          <ul class="cards link-cards">
            {list.map((l) => (
              <LinkCard key={l.id} link={l} community={community} manage={manage} onChange={(next) => links.setData(list.map((x) => (x.id === next.id ? next : x)))} />
            ))}
          </ul>
        </Loading>
      </section>
      {manage && <ProposeForm community={community} communities={communities} onDone={() => void links.reload()} />}
    </>
  );
}

export function FederationPage() {
  const me = session.me();
  const admin = me?.roles.includes("admin") ?? false;
  const [chosen, setChosen] = useState(me?.community_id ?? "");
  // Every community the UI can name, by its sites (no list of communities exists); the ones
  // this person runs (administers, or staffs a site of) are those the page shows.
  const known = useLoad(async () => {
    const all = await sites();
    const byCommunity = new Map<string, Site[]>();
    for (const s of all) byCommunity.set(s.community_id, [...(byCommunity.get(s.community_id) ?? []), s]);
    const own = me?.community_id ? await communityName(me.community_id) : null;
    const mine = new Set<string>([...(me?.admin_community_ids ?? []), ...all.filter((s) => me?.staff_site_ids.includes(s.id)).map((s) => s.community_id)]);
    if (admin) for (const id of byCommunity.keys()) mine.add(id);
    const label = (id: string) => (id === me?.community_id && own ? own : byCommunity.get(id)?.length ? networkLabel(byCommunity.get(id)!) : `Communauté ${id.slice(0, 8)}`);
    const everyone: Community[] = [...new Set([...byCommunity.keys(), ...mine])].map((id) => ({ id, label: label(id) }));
    everyone.sort((a, b) => a.label.localeCompare(b.label, "fr"));
    const runs = everyone.filter((c) => mine.has(c.id));
    runs.sort((a, b) => Number(b.id === me?.community_id) - Number(a.id === me?.community_id));
    return { everyone, runs };
  }, []);
  const runs = known.data?.runs ?? [];
  const current = runs.find((c) => c.id === chosen) ?? runs[0];
  return (
    <>
      <PageTitle>Communautés partenaires</PageTitle>
      <p>
        <a href="/admin">Retour à l’administration</a>
      </p>
      <p>
        Un lien entre deux communautés permet à leurs membres d’échanger et de se payer en minutes. Chaque communauté fixe ce que ses membres peuvent devoir à l’autre, et ce que l’autre
        peut lui devoir.
      </p>
      <Alert error={known.error} />
      <Loading when={known.loading && !known.data}>
        {known.data && runs.length === 0 && <p>Cette page est réservée aux administrateurs d’une communauté et aux personnes qui tiennent l’accueil d’un lieu.</p>}
        {runs.length > 1 && (
          <ChoiceField label="Communauté" value={current?.id} onChange={setChosen} choices={runs} />
        )}
        {current && <CommunityLinks key={current.id} community={current.id} label={current.label} communities={known.data?.everyone ?? []} />}
      </Loading>
    </>
  );
}
