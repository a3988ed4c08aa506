// Exchanges: proposing one, the list of mine, and one exchange's page with the actions its
// state allows (accept, decline, confirm, cancel, dispute), its messages and the rating.
import { useEffect, useState } from "preact/hooks";
import { ApiError, get, post, query, send } from "../api";
import { listingOf, listingPath, sites } from "../catalog";
import type { ListingRef } from "../catalog";
import { onNotifications } from "../live";
import { SitePicker } from "../sitepicker";
import { navigate } from "../router";
import { session } from "../session";
import type { Exchange, Listing, Message, Page, PublicMember } from "../types";
import { Alert, ConfirmButton, Field, fieldError, formatDate, formatMinutes, Loading, Notice, PageTitle, partnerHost, STATE_LABEL, useAction, useLoad } from "../ui";
import { lazy } from "../lazy";
import { defaultLoanDates, isLoan, LoanFacts, LoanFields, loanBody, LoanSteps, noShowPossible } from "./loans";
import type { LoanDates } from "./loans";

const CalendarFeed = lazy(() => import("./bookings").then((m) => m.CalendarFeed));

// The listing's mode decides what a proposal carries: dates for a loan, the proposer's own
// listing for a swap, credits for the rest (a loan costs what the network's policy says).
export function ProposeForm({
  target,
  minutes: initial,
  mode,
  partner = false,
  onCancel,
}: {
  target: { match_id?: string; offer_id?: string; request_id?: string };
  minutes: number;
  mode?: string;
  /** A partner installation's offer: a place of ours means nothing to its owner. */
  partner?: boolean;
  onCancel: () => void;
}) {
  const loan = mode === "lend" && !!target.offer_id;
  const swap = mode === "swap" && !!target.offer_id;
  const [minutes, setMinutes] = useState(String(initial));
  const [message, setMessage] = useState("");
  const [site, setSite] = useState("");
  const [when, setWhen] = useState("");
  const [dates, setDates] = useState<LoanDates>(defaultLoanDates);
  const [dateErrors, setDateErrors] = useState<Record<string, string>>({});
  const [given, setGiven] = useState("");
  const mine = useLoad(
    async () => (swap ? (await get<Page<Listing>>(`/v1/offers${query({ member_id: session.memberId(), status: "active", limit: 100 })}`)).items : []),
    [swap],
  );
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    const checked = loan ? loanBody(dates) : { errors: {} as Record<string, string>, body: {} };
    if (swap && !given) checked.errors.given_offer_id = "Choisissez ce que vous donnez en échange.";
    setDateErrors(checked.errors);
    if (Object.keys(checked.errors).length) return;
    void action.run(async () => {
      // The date is typed in the member's local time; the API takes UTC.
      const scheduled_at = when ? new Date(when).toISOString().replace(/\.\d{3}Z$/, "Z") : undefined;
      const body = {
        ...target,
        ...(loan || swap ? {} : { minutes: Number(minutes) }),
        ...(loan ? checked.body : {}),
        ...(swap ? { given_offer_id: given } : {}),
        ...(message ? { message } : {}),
        ...(site ? { site_id: site } : {}),
        ...(scheduled_at ? { scheduled_at } : {}),
      };
      const created = await post<Exchange>("/v1/exchanges", body);
      navigate(`/echanges/${created.id}`);
    });
  };
  return (
    <form class="inline-form" onSubmit={submit} noValidate aria-label={loan ? "Demander un prêt" : "Proposer un échange"}>
      <Alert error={action.error} />
      {loan && <LoanFields dates={dates} setDates={setDates} errors={dateErrors} error={action.error} />}
      {loan && <p class="hint">Le prêt coûte les crédits prévus par votre réseau, versés au propriétaire à la remise de l’objet.</p>}
      {swap && (
        <Field label="Ce que je donne en échange" hint="Une de vos offres en cours." error={dateErrors.given_offer_id ?? fieldError(action.error, "given_offer_id")}>
          {(p) => (
            <select {...p} value={given} onChange={(e) => setGiven(e.currentTarget.value)}>
              <option value="">Choisissez une de vos offres</option>
              {(mine.data ?? []).map((o) => (
                <option key={o.id} value={o.id}>
                  {o.title}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
      {!loan && !swap && (
        <Field label="Crédits de temps (minutes)" hint="60 minutes = 1 heure." error={fieldError(action.error, "minutes")}>
          {(p) => <input {...p} type="number" min={0} step={15} inputMode="numeric" value={minutes} onInput={(e) => setMinutes(e.currentTarget.value)} />}
        </Field>
      )}
      <Field label="Message (facultatif)" error={fieldError(action.error, "message")}>
        {(p) => <textarea {...p} rows={2} value={message} onInput={(e) => setMessage(e.currentTarget.value)} />}
      </Field>
      {!partner && (
        <SitePicker
          label="Lieu de remise (facultatif)"
          emptyLabel="À convenir"
          value={site}
          onChange={(s) => setSite(s?.id ?? "")}
          error={fieldError(action.error, "site_id")}
        />
      )}
      {!loan && (
        <Field label="Date et heure (facultatif)" error={fieldError(action.error, "scheduled_at")}>
          {(p) => <input {...p} type="datetime-local" value={when} onInput={(e) => setWhen(e.currentTarget.value)} />}
        </Field>
      )}
      <div class="row">
        <button type="submit" class="button" disabled={action.busy}>
          {loan ? "Envoyer la demande de prêt" : "Envoyer la proposition"}
        </button>
        <button type="button" class="button button--light" onClick={onCancel}>
          Annuler
        </button>
      </div>
    </form>
  );
}

const names = new Map<string, Promise<string | null>>();
function memberName(id: string): Promise<string | null> {
  if (!names.has(id)) {
    names.set(
      id,
      get<PublicMember>(`/v1/members/${id}`)
        .then((m) => m.display_name)
        .catch(() => null),
    );
  }
  return names.get(id)!;
}

/** How a party is named when their profile is not to be read here. */
function unknownParty(exchange: Exchange): string {
  return exchange.partner_url ? `un membre de ${partnerHost(exchange.partner_url)}` : "un membre";
}

/** A party to the exchange: "vous", their name, or who they are when it is not known here. */
function Name({ id, exchange }: { id: string; exchange: Exchange }) {
  const [name, setName] = useState("…");
  useEffect(() => {
    if (id === session.memberId()) setName("vous");
    else void memberName(id).then((found) => setName(found ?? unknownParty(exchange)));
  }, [id, exchange.partner_url]);
  return <>{name}</>;
}

function ListingLink({ exchange }: { exchange: Exchange }) {
  const [ref, setRef] = useState<ListingRef | null | undefined>(undefined);
  useEffect(() => {
    void listingOf(exchange).then(setRef);
  }, [exchange.offer_id, exchange.request_id]);
  if (ref === undefined) return <>…</>;
  if (ref === null) return <>annonce retirée</>;
  return <a href={listingPath(ref.side, ref.id)}>{ref.title}</a>;
}

function SiteName({ id }: { id: string | null }) {
  const [name, setName] = useState("");
  useEffect(() => {
    if (id) void sites().then((all) => setName(all.find((s) => s.id === id)?.name ?? ""));
  }, [id]);
  return <>{id ? name || "…" : "à convenir"}</>;
}

function roleOf(exchange: Exchange, me: string): "provider" | "receiver" | "staff" {
  if (exchange.provider_id === me) return "provider";
  if (exchange.receiver_id === me) return "receiver";
  return "staff";
}

function roleText(x: Exchange, role: string): string {
  if (x.mode === "lend") return role === "provider" ? "vous prêtez" : "vous empruntez";
  return role === "provider" ? "vous rendez le service" : "vous recevez";
}

export function ExchangesPage() {
  const [state, setState] = useState("");
  const list = useLoad(async () => (await get<Page<Exchange>>(`/v1/exchanges${query({ state, limit: 50 })}`)).items, [state]);
  return (
    <>
      <PageTitle>Mes échanges</PageTitle>
      <Field label="Afficher">
        {(p) => (
          <select {...p} value={state} onChange={(e) => setState(e.currentTarget.value)}>
            <option value="">Tous les échanges</option>
            {Object.entries(STATE_LABEL).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Alert error={list.error} />
      <Loading when={list.loading && !list.data}>
        {list.data?.length ? (
          <ul class="cards" aria-label="Échanges">
            {list.data.map((x) => (
              <li class="card" key={x.id}>
                <h2 class="card-title">
                  <a href={`/echanges/${x.id}`}>
                    Échange avec <Name id={roleOf(x, session.memberId() ?? "") === "provider" ? x.receiver_id : x.provider_id} exchange={x} />
                  </a>
                </h2>
                <p>
                  <span class={`badge badge--${x.state}`}>{STATE_LABEL[x.state] ?? x.state}</span> · {formatMinutes(x.minutes)} ·{" "}
                  {roleText(x, roleOf(x, session.memberId() ?? ""))}
                  {x.partner_url && (
                    <>
                      {" "}
                      · <span class="badge">Installation partenaire</span>
                    </>
                  )}
                </p>
                <p>
                  Annonce : <ListingLink exchange={x} />
                </p>
                <p class="hint">
                  {x.mode === "lend" && x.due_at
                    ? `Retour prévu le ${formatDate(x.due_at)}`
                    : x.scheduled_at
                      ? `Le ${formatDate(x.scheduled_at)}`
                      : "Date à convenir"}{" "}
                  · Lieu : <SiteName id={x.site_id} />
                </p>
              </li>
            ))}
          </ul>
        ) : (
          <p>Aucun échange pour le moment. Proposez-en un depuis vos correspondances sur l’accueil.</p>
        )}
      </Loading>
      <CalendarFeed />
    </>
  );
}

// While the ledger holds the credits ("accepting") or pays them ("completing"), look again
// shortly: the next state comes from the ledger, not from this page.
const SETTLING_POLL_MS = 1000;
const SETTLING_STATES = ["accepting", "completing"];
// An action on the mirror of an exchange living at a partner installation is sent there (202):
// its new state comes back over the link a few seconds later. The page looks again meanwhile.
const RELAY_POLL_MS = 1500;
const RELAY_WAIT_MS = 15_000;

/** What an action changes on an exchange: when it differs, the partner's answer has come. */
function footprint(x: Exchange): string {
  return JSON.stringify([x.state, x.confirmations, x.returns, x.history?.length, x.updated_at]);
}

function Actions({ exchange, onChange, onRelayed }: { exchange: Exchange; onChange: (x: Exchange) => void; onRelayed: () => void }) {
  const me = session.memberId() ?? "";
  const action = useAction();
  const role = roleOf(exchange, me);
  const partner = !!exchange.partner_url;
  const act = (verb: string, body?: unknown) =>
    action.run(async () => {
      const answer = await send<Exchange | undefined>("POST", `/v1/exchanges/${exchange.id}/${verb}`, { body });
      if (answer.status === 202 && partner) return onRelayed();
      onChange(answer.data && answer.data.id ? answer.data : await get<Exchange>(`/v1/exchanges/${exchange.id}`));
    });
  const iProposed = exchange.proposer_id === me;
  // Loans and swaps go by hand-overs (and a loan by its return), not by "it took place".
  const objectLoop = exchange.mode === "lend" || exchange.mode === "swap";
  const confirmed = !objectLoop && role !== "staff" && exchange.confirmations?.[role];
  const buttons: preact.JSX.Element[] = [];
  if (exchange.state === "proposed" && !iProposed && role !== "staff") {
    buttons.push(<button type="button" class="button" onClick={() => act("accept")}>{isLoan(exchange) ? "Autoriser le prêt" : "Accepter"}</button>);
    buttons.push(<button type="button" class="button button--light" onClick={() => act("decline")}>Refuser</button>);
  }
  if (exchange.state === "accepted" && !confirmed && !objectLoop) {
    buttons.push(<button type="button" class="button" onClick={() => act("complete")}>Confirmer que l’échange a eu lieu</button>);
  }
  if (["proposed", "accepting", "accepted"].includes(exchange.state)) {
    buttons.push(
      <ConfirmButton label="Annuler l’échange" question="Annuler cet échange ? Les crédits réservés seront libérés." yes="Oui, annuler l’échange" onConfirm={() => act("cancel")} />,
    );
  }
  // Across installations, a no-show and a dispute are not relayed (yet): the accueil sees to them.
  if (noShowPossible(exchange) && role !== "staff" && !partner) {
    const other = role === "provider" ? exchange.receiver_id : exchange.provider_id;
    buttons.push(
      <ConfirmButton
        label="L’autre personne n’est pas venue"
        question="Signaler que l’autre personne n’est pas venue ? L’échange sera annulé et sa fiabilité baissera."
        yes="Oui, elle n’est pas venue"
        onConfirm={() => act("no-show", { member_id: other })}
      />,
    );
  }
  if ((exchange.state === "accepted" || exchange.state === "completing") && !partner) {
    buttons.push(
      <button type="button" class="button button--danger" onClick={() => act("dispute", { reason: "Signalé depuis l’interface web" })}>
        Signaler un problème
      </button>,
    );
  }
  return (
    <div>
      <Alert error={action.error} />
      {confirmed && exchange.state === "accepted" && <Notice>Vous avez confirmé. En attente de l’autre personne.</Notice>}
      {exchange.reason === "insufficient-credits" && exchange.state === "proposed" && (
        <Notice>Crédits insuffisants : l’échange n’a pas pu être accepté.</Notice>
      )}
      {objectLoop && <LoanSteps exchange={exchange} role={role} partner={partner} act={(verb, body) => act(verb, body)} />}
      {buttons.length > 0 && <div class="row" aria-busy={action.busy}>{buttons}</div>}
    </div>
  );
}

function Messages({ exchange, proposal, tick }: { exchange: Exchange; proposal?: { author: string; body: string; at?: string }; tick: number }) {
  const id = exchange.id;
  const list = useLoad(async () => (await get<Page<Message>>(`/v1/exchanges/${id}/messages?limit=100`)).items, [id, tick]);
  const [body, setBody] = useState("");
  const action = useAction();
  const send = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      await post(`/v1/exchanges/${id}/messages`, { body });
      setBody("");
      await list.reload();
    });
  };
  return (
    <section aria-labelledby="titre-messages">
      <h2 id="titre-messages">Messages</h2>
      <Alert error={list.error} />
      {proposal || list.data?.length ? (
        <ol class="messages" aria-live="polite">
          {proposal && (
            <li>
              <strong>
                <Name id={proposal.author} exchange={exchange} />
              </strong>{" "}
              <span class="hint">avec la proposition{proposal.at ? `, ${formatDate(proposal.at)}` : ""}</span>
              <p>{proposal.body}</p>
            </li>
          )}
          {(list.data ?? []).map((m) => (
            <li key={m.id}>
              <strong>
                <Name id={m.author_id} exchange={exchange} />
              </strong>{" "}
              <span class="hint">{formatDate(m.created_at)}</span>
              <p>{m.body}</p>
            </li>
          ))}
        </ol>
      ) : (
        <p>Aucun message.</p>
      )}
      <form onSubmit={send} noValidate>
        <Alert error={action.error} />
        <Field label="Votre message" error={fieldError(action.error, "body")}>
          {(p) => <textarea {...p} rows={3} value={body} onInput={(e) => setBody(e.currentTarget.value)} />}
        </Field>
        <button type="submit" class="button" disabled={action.busy || !body.trim()}>
          Envoyer
        </button>
      </form>
    </section>
  );
}

function Rating({ id }: { id: string }) {
  const [stars, setStars] = useState("5");
  const [comment, setComment] = useState("");
  const [done, setDone] = useState(false);
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      await post(`/v1/exchanges/${id}/rating`, { stars: Number(stars), ...(comment ? { comment } : {}) });
      setDone(true);
    });
  };
  if (done) return <Notice>Merci pour votre avis !</Notice>;
  return (
    <section aria-labelledby="titre-avis">
      <h2 id="titre-avis">Donner un avis</h2>
      <form onSubmit={submit} noValidate>
        <Alert error={action.error} />
        <Field label="Note (de 1 à 5 étoiles)" error={fieldError(action.error, "stars")}>
          {(p) => (
            <select {...p} value={stars} onChange={(e) => setStars(e.currentTarget.value)}>
              {[5, 4, 3, 2, 1].map((n) => (
                <option key={n} value={n}>
                  {n} étoile{n > 1 ? "s" : ""}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Commentaire (facultatif)" error={fieldError(action.error, "comment")}>
          {(p) => <textarea {...p} rows={2} value={comment} onInput={(e) => setComment(e.currentTarget.value)} />}
        </Field>
        <button type="submit" class="button" disabled={action.busy}>
          Envoyer mon avis
        </button>
      </form>
    </section>
  );
}

// A missing exchange (or one not ours to see) is named as such, not as a "resource".
function notFound(error: unknown): unknown {
  return error instanceof ApiError && error.status === 404 ? new ApiError(404, error.code, "Échange introuvable.", []) : error;
}

export function ExchangePage({ id }: { id: string }) {
  const exchange = useLoad(() => get<Exchange>(`/v1/exchanges/${id}`), [id]);
  const x = exchange.data;
  // What the other party does (a message, an acceptance) arrives by the notifications stream:
  // the page reads the exchange and its messages again, without a reload.
  const [tick, setTick] = useState(0);
  useEffect(
    () =>
      onNotifications((fresh) => {
        if (!fresh.some((n) => (n.exchange_id ?? n.data?.exchange_id) === id)) return;
        setTick((t) => t + 1);
        void exchange.reload();
      }),
    [id],
  );
  // An action sent to the partner installation: the footprint it started from, until when to wait.
  const [relayed, setRelayed] = useState<{ from: string; until: number } | null>(null);
  const [relayLate, setRelayLate] = useState(false);
  const [polls, setPolls] = useState(0);
  useEffect(() => {
    if (!relayed || !x) return;
    if (footprint(x) !== relayed.from) return setRelayed(null);
    if (Date.now() >= relayed.until) {
      setRelayed(null);
      return setRelayLate(true);
    }
    const timer = setTimeout(() => void exchange.reload().then(() => setPolls((n) => n + 1)), RELAY_POLL_MS);
    return () => clearTimeout(timer);
  }, [x, relayed, polls]);
  const onRelayed = () => {
    if (!x) return;
    setRelayLate(false);
    setRelayed({ from: footprint(x), until: Date.now() + RELAY_WAIT_MS });
  };
  useEffect(() => {
    // A loan's deposit is held by the ledger after the acceptance: its hand-over waits for it.
    const depositPending = x?.state === "accepted" && x.deposit_state === "sent";
    if (!x || (!SETTLING_STATES.includes(x.state) && !depositPending)) return;
    const timer = setTimeout(() => void exchange.reload(), SETTLING_POLL_MS);
    return () => clearTimeout(timer);
  }, [x]);
  return (
    <>
      <PageTitle>Échange</PageTitle>
      <p>
        <a href="/echanges">← Tous mes échanges</a>
      </p>
      <Alert error={notFound(exchange.error)} />
      <Loading when={exchange.loading && !x}>
        {x && (
          <>
            {x.partner_url && (
              <Notice>
                Échange avec un membre d’une installation partenaire ({partnerHost(x.partner_url)}). La conversation et les avis ne passent pas encore d’une
                installation à l’autre : pour vous joindre, passez par l’accueil de votre tiers-lieu.
              </Notice>
            )}
            <dl class="facts">
              <dt>Annonce</dt>
              <dd>
                <ListingLink exchange={x} />
              </dd>
              {x.given_offer_id && (
                <>
                  <dt>Donné en échange</dt>
                  <dd>
                    <ListingLink exchange={{ ...x, offer_id: x.given_offer_id, request_id: null }} />
                  </dd>
                </>
              )}
              <dt>État</dt>
              <dd>
                <span class={`badge badge--${x.state}`} data-testid="etat-echange">
                  {STATE_LABEL[x.state] ?? x.state}
                </span>
              </dd>
              <dt>Crédits</dt>
              <dd>{formatMinutes(x.minutes)}</dd>
              <dt>{isLoan(x) ? "Prête l’objet" : "Rend le service ou donne"}</dt>
              <dd>
                <Name id={x.provider_id} exchange={x} />
              </dd>
              <dt>{isLoan(x) ? "Emprunte" : "Reçoit"}</dt>
              <dd>
                <Name id={x.receiver_id} exchange={x} />
              </dd>
              {isLoan(x) ? (
                <LoanFacts exchange={x} />
              ) : (
                <>
                  <dt>Date</dt>
                  <dd>{x.scheduled_at ? formatDate(x.scheduled_at) : "à convenir"}</dd>
                </>
              )}
              <dt>Lieu</dt>
              <dd>
                <SiteName id={x.site_id} />
              </dd>
              {x.partner_url && x.message && (
                <>
                  <dt>Message de la proposition</dt>
                  <dd>{x.message}</dd>
                </>
              )}
            </dl>
            {relayed ? (
              <Notice>Envoyé à l’installation partenaire : l’échange se mettra à jour dans quelques secondes.</Notice>
            ) : (
              <>
                {relayLate && (
                  <Notice>L’installation partenaire n’a pas encore répondu : l’échange se mettra à jour dès qu’elle l’aura fait. Revenez sur cette page un peu plus tard.</Notice>
                )}
                <Actions exchange={x} onChange={(next) => exchange.setData(next)} onRelayed={onRelayed} />
              </>
            )}
            {x.state === "completed" && !x.partner_url && <Rating id={x.id} />}
            {!x.partner_url && (
              <Messages
                exchange={x}
                tick={tick}
                proposal={x.message ? { author: x.proposer_id ?? x.receiver_id, body: x.message, at: x.proposed_at } : undefined}
              />
            )}
          </>
        )}
      </Loading>
    </>
  );
}
