// Loans and swaps between members, and bookings: the dates a borrower asks for, an object's
// month calendar (GET /v1/offers/{id}/calendar), the steps of a loan on its exchange page
// (hand-over, return, renewal, lost) and the member's private calendar feed (GET /v1/me/calendar).
import { useState } from "preact/hooks";
import { del, get, post } from "../api";
import { session } from "../session";
import type { Exchange, OfferCalendar } from "../types";
import { Alert, ConfirmButton, Field, fieldError, formatDay, formatMinutes, Loading, Notice, useAction, useLoad } from "../ui";

const DAY_MS = 86_400_000;
// A loan starts in the morning and is due back in the evening of the days chosen (local time).
const START_HOUR = "09:00";
const DUE_HOUR = "19:00";

/** An instant as the API writes it (RFC 3339, whole seconds, UTC). */
export function apiTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** "2026-12-05" (an <input type="date">) at a local hour, as the API's instant. */
export function dayAt(day: string, hour: string): string {
  return apiTime(new Date(`${day}T${hour}`));
}

/** The local calendar day of an instant, for an <input type="date">. */
export function dayOf(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

export interface LoanDates {
  start: string;
  due: string;
}

export function defaultLoanDates(): LoanDates {
  const now = new Date();
  return { start: dayOf(new Date(now.getTime() + DAY_MS)), due: dayOf(new Date(now.getTime() + 8 * DAY_MS)) };
}

/** The loan's dates checked in the page (words the member understands), else the API's fields. */
export function loanBody(dates: LoanDates): { body?: { starts_at: string; due_at: string }; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  if (!dates.start) errors.starts_at = "Choisissez le jour où vous prenez l’objet.";
  if (!dates.due) errors.due_at = "Choisissez le jour où vous le rendez.";
  else if (dates.start && dates.due < dates.start) errors.due_at = "Le retour doit venir après le début du prêt.";
  else if (dates.due < dayOf(new Date())) errors.due_at = "Le jour du retour est déjà passé.";
  if (Object.keys(errors).length) return { errors };
  return { body: { starts_at: dayAt(dates.start, START_HOUR), due_at: dayAt(dates.due, DUE_HOUR) }, errors };
}

export function LoanFields({ dates, setDates, errors, error }: { dates: LoanDates; setDates: (d: LoanDates) => void; errors: Record<string, string>; error: unknown }) {
  return (
    <fieldset>
      <legend>Dates du prêt</legend>
      <div class="row row--end">
        <Field label="Je prends l’objet le" error={errors.starts_at ?? fieldError(error, "starts_at")}>
          {(p) => <input {...p} type="date" value={dates.start} onInput={(e) => setDates({ ...dates, start: e.currentTarget.value })} />}
        </Field>
        <Field label="Je le rends le" error={errors.due_at ?? fieldError(error, "due_at")}>
          {(p) => <input {...p} type="date" value={dates.due} onInput={(e) => setDates({ ...dates, due: e.currentTarget.value })} />}
        </Field>
      </div>
    </fieldset>
  );
}

// ------------------------------------------------------------------------- month calendar
const WEEKDAYS: [string, string][] = [
  ["L", "lundi"],
  ["M", "mardi"],
  ["M", "mercredi"],
  ["J", "jeudi"],
  ["V", "vendredi"],
  ["S", "samedi"],
  ["D", "dimanche"],
];

function monthStart(date: Date): Date {
  return new Date(date.getFullYear(), date.getMonth(), 1);
}

function addMonths(date: Date, n: number): Date {
  return new Date(date.getFullYear(), date.getMonth() + n, 1);
}

/** The weeks of a month, Monday first; days of the months around are null. */
function weeksOf(month: Date): (Date | null)[][] {
  const days: (Date | null)[] = [];
  const lead = (month.getDay() + 6) % 7;
  for (let i = 0; i < lead; i++) days.push(null);
  for (let d = 1; d <= new Date(month.getFullYear(), month.getMonth() + 1, 0).getDate(); d++) {
    days.push(new Date(month.getFullYear(), month.getMonth(), d));
  }
  while (days.length % 7) days.push(null);
  const weeks: (Date | null)[][] = [];
  for (let i = 0; i < days.length; i += 7) weeks.push(days.slice(i, i + 7));
  return weeks;
}

/** An object's bookings as a month: busy days marked (in colour and in words), then listed. */
export function BookingCalendar({ offerId, title }: { offerId: string; title: string }) {
  const [month, setMonth] = useState(() => monthStart(new Date()));
  const calendar = useLoad(
    () => get<OfferCalendar>(`/v1/offers/${offerId}/calendar?from=${apiTime(month)}&to=${apiTime(addMonths(month, 1))}`),
    [offerId, month.getTime()],
  );
  const busy = calendar.data?.busy ?? [];
  const busyOn = (day: Date) => {
    const start = day.getTime();
    const end = new Date(day.getFullYear(), day.getMonth(), day.getDate() + 1).getTime();
    return busy.some((b) => Date.parse(b.from) < end && Date.parse(b.to) > start);
  };
  const today = dayOf(new Date());
  const name = month.toLocaleDateString("fr-FR", { month: "long", year: "numeric" });
  return (
    <section aria-labelledby="titre-calendrier" class="calendar">
      <h2 id="titre-calendrier">Disponibilités</h2>
      <div class="row cal-nav">
        <button type="button" class="button button--light" aria-label="Mois précédent" onClick={() => setMonth(addMonths(month, -1))}>
          ←
        </button>
        <p class="cal-month" aria-live="polite">
          {name}
        </p>
        <button type="button" class="button button--light" aria-label="Mois suivant" onClick={() => setMonth(addMonths(month, 1))}>
          →
        </button>
      </div>
      <Alert error={calendar.error} />
      <table class="cal">
        <caption class="sr-only">
          Réservations de {title}, {name}
        </caption>
        <thead>
          <tr>
            {WEEKDAYS.map(([short, long]) => (
              <th key={long} scope="col" abbr={long}>
                <span aria-hidden="true">{short}</span>
                <span class="sr-only">{long}</span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {weeksOf(month).map((week, w) => (
            <tr key={w}>
              {week.map((day, i) =>
                day ? (
                  <td key={i} class={busyOn(day) ? "cal-day cal-busy" : "cal-day"} aria-current={dayOf(day) === today ? "date" : undefined}>
                    {day.getDate()}
                    {busyOn(day) && <span class="sr-only"> : réservé</span>}
                  </td>
                ) : (
                  <td key={i} />
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
      <p class="hint">
        <span class="cal-key" aria-hidden="true" /> Jours réservés. Les autres jours, l’objet est libre.
      </p>
      <Loading when={calendar.loading && !calendar.data}>
        {busy.length === 0 ? (
          <p data-testid="calendrier-libre">Aucune réservation ce mois-ci.</p>
        ) : (
          <ul aria-label="Réservations du mois">
            {busy.map((b) => (
              <li key={b.exchange_id}>
                Réservé du {formatDay(b.from)} au {formatDay(b.to)}
              </li>
            ))}
          </ul>
        )}
      </Loading>
    </section>
  );
}

// ------------------------------------------------------------------------- a loan's page
const DEPOSIT_TEXT: Record<string, string> = {
  none: "aucune",
  sent: "en cours de réservation",
  held: "réservée",
  refused: "refusée (crédits insuffisants)",
  voided: "libérée",
  posted: "versée au propriétaire",
};

export function isLoan(x: Exchange): boolean {
  return x.mode === "lend";
}

/** A loan's dates, deposit and renewals, as lines of the exchange page's facts. */
export function LoanFacts({ exchange: x }: { exchange: Exchange }) {
  return (
    <>
      <dt>Prêt</dt>
      <dd data-testid="dates-pret">
        du {formatDay(x.starts_at)} au {formatDay(x.due_at)}
      </dd>
      <dt>Caution</dt>
      <dd>{x.deposit_minutes ? `${formatMinutes(x.deposit_minutes)}, ${DEPOSIT_TEXT[x.deposit_state ?? "none"] ?? x.deposit_state}` : "aucune"}</dd>
      <dt>Prolongations</dt>
      <dd>
        {x.renewals ?? 0} sur {x.max_renewals ?? 2}
        {x.requested_due_at ? ` · demandée jusqu’au ${formatDay(x.requested_due_at)}` : ""}
      </dd>
    </>
  );
}

type Role = "provider" | "receiver" | "staff";

function RenewForm({ exchange, act }: { exchange: Exchange; act: (verb: string, body?: unknown) => Promise<void> }) {
  const base = exchange.due_at ? new Date(exchange.due_at) : new Date();
  const [day, setDay] = useState(dayOf(new Date(base.getTime() + 7 * DAY_MS)));
  const [error, setError] = useState("");
  const submit = (event: Event) => {
    event.preventDefault();
    if (!day) return setError("Choisissez la nouvelle date de retour.");
    if (exchange.due_at && day <= dayOf(new Date(exchange.due_at))) return setError("Choisissez un jour après la date de retour prévue.");
    setError("");
    void act("renew", { due_at: dayAt(day, DUE_HOUR) });
  };
  return (
    <form onSubmit={submit} noValidate class="row row--end" aria-label="Demander une prolongation">
      <Field label="Nouvelle date de retour" error={error}>
        {(p) => <input {...p} type="date" value={day} onInput={(e) => setDay(e.currentTarget.value)} />}
      </Field>
      <button type="submit" class="button button--light">
        Demander une prolongation
      </button>
    </form>
  );
}

/** What each person may do at this step of a loan or a swap; staff act for both parties. */
export function LoanSteps({ exchange: x, role, act }: { exchange: Exchange; role: Role; act: (verb: string, body?: unknown) => Promise<void> }) {
  const loan = isLoan(x);
  const out: preact.JSX.Element[] = [];
  const handed = role === "staff" ? x.confirmations?.staff : x.confirmations?.[role];
  const returned = role === "staff" ? x.returns?.staff : x.returns?.[role];
  const notes: string[] = [];
  if (x.state === "accepted") {
    if (loan && x.deposit_state === "sent") notes.push("La caution est en cours de réservation : la remise sera possible dans un instant.");
    if (handed) notes.push("Vous avez confirmé la remise. En attente de l’autre personne.");
    else
      out.push(
        <button type="button" class="button" onClick={() => act("handover")}>
          {role === "staff" ? "Enregistrer la remise (pour les deux)" : "Confirmer la remise de l’objet"}
        </button>,
      );
  }
  if (loan && (x.state === "handed_over" || x.state === "late")) {
    if (returned) notes.push("Vous avez confirmé le retour. En attente de l’autre personne.");
    else
      out.push(
        <button type="button" class="button" onClick={() => act("return")}>
          {role === "staff" ? "Enregistrer le retour (pour les deux)" : "Confirmer le retour de l’objet"}
        </button>,
      );
    if (x.state === "late") notes.push("Le prêt est en retard : rendez l’objet au plus vite. Aucune prolongation n’est possible.");
    if (role === "provider" && x.requested_due_at)
      out.push(
        <button type="button" class="button" onClick={() => act("renew/accept")}>
          Accepter la prolongation jusqu’au {formatDay(x.requested_due_at)}
        </button>,
      );
    if (role === "staff")
      out.push(
        <ConfirmButton
          label="Déclarer l’objet perdu ou abîmé"
          question="Déclarer l’objet perdu ou abîmé ? La caution sera versée au propriétaire et le prêt prendra fin."
          yes="Oui, l’objet est perdu ou abîmé"
          onConfirm={() => void act("lost")}
        />,
      );
  }
  const canRenew = loan && role === "receiver" && x.state === "handed_over" && !x.requested_due_at && (x.renewals ?? 0) < (x.max_renewals ?? 2);
  return (
    <>
      {notes.map((n) => (
        <Notice key={n}>{n}</Notice>
      ))}
      {out.length > 0 && <div class="row">{out}</div>}
      {canRenew && <RenewForm exchange={x} act={act} />}
      {loan && role === "receiver" && x.requested_due_at && <Notice>Prolongation demandée jusqu’au {formatDay(x.requested_due_at)} : en attente du propriétaire.</Notice>}
    </>
  );
}

/** Whether "the other party did not come" may be said now (accepted, the time has passed). */
export function noShowPossible(x: Exchange): boolean {
  const at = x.starts_at ?? x.scheduled_at;
  return x.state === "accepted" && !!at && Date.parse(at) < Date.now();
}

// ------------------------------------------------------------------------- calendar feed
interface FeedLink {
  token: string;
  path: string;
  url: string;
}

/** The member's private iCalendar address, to subscribe to from a phone's calendar. */
export function CalendarFeed() {
  const [link, setLink] = useState<FeedLink | null>(null);
  const action = useAction();
  const acting = session.actingFor();
  const show = () => action.run(async () => setLink(await get<FeedLink>("/v1/me/calendar")));
  const renew = () =>
    action.run(async () => {
      await del("/v1/me/calendar");
      setLink(await get<FeedLink>("/v1/me/calendar"));
    });
  const address = link ? new URL(link.path, location.origin).href : "";
  return (
    <section aria-labelledby="titre-agenda">
      <h2 id="titre-agenda">{acting ? `Agenda de ${acting.display_name}` : "Mon agenda"}</h2>
      <p>Vos prêts, réservations et échanges datés, dans l’agenda de votre téléphone ou de votre ordinateur.</p>
      <Alert error={action.error} />
      {!link ? (
        <button type="button" class="button button--light" disabled={action.busy} onClick={() => void show()}>
          Obtenir le lien de mon agenda
        </button>
      ) : (
        <>
          <Field label="Adresse de l’agenda" hint="Copiez-la dans votre application d’agenda (« s’abonner à un calendrier »). Elle est personnelle : ne la partagez pas.">
            {(p) => <input {...p} readOnly value={address} onFocus={(e) => e.currentTarget.select()} />}
          </Field>
          <div class="row">
            <a class="button" href={address.replace(/^https?:/, "webcal:")}>
              S’abonner sur cet appareil
            </a>
            <a class="button button--light" href={link.path} download="maillon.ics">
              Télécharger le fichier
            </a>
            <ConfirmButton
              label="Changer le lien"
              question="Changer le lien de l’agenda ? L’ancien lien cessera de fonctionner partout où il est abonné."
              yes="Oui, changer le lien"
              onConfirm={() => void renew()}
            />
          </div>
        </>
      )}
    </section>
  );
}

// ------------------------------------------------------------------------- holds queue
interface Hold {
  id: string;
  member_id: string;
  state: "waiting" | "ready" | "fulfilled" | "expired" | "cancelled";
  position: number | null;
  pickup_until: string | null;
}
interface HoldQueue {
  length: number;
  whole_queue: boolean;
  items: Hold[];
}

/** The queue for an object on loan (POST/GET /v1/offers/{id}/holds): join, see one's place, leave. */
export function HoldQueueSection({ offerId, mine }: { offerId: string; mine: boolean }) {
  const queue = useLoad(() => get<HoldQueue>(`/v1/offers/${offerId}/holds`), [offerId]);
  const action = useAction();
  const me = session.memberId();
  const own = queue.data?.items.find((h) => h.member_id === me && (h.state === "waiting" || h.state === "ready"));
  const join = () =>
    action.run(async () => {
      await post(`/v1/offers/${offerId}/holds`);
      await queue.reload();
    });
  const leave = (hold: Hold) =>
    action.run(async () => {
      await del(`/v1/holds/${hold.id}`);
      await queue.reload();
    });
  const length = queue.data?.length ?? 0;
  return (
    <section aria-labelledby="titre-file">
      <h2 id="titre-file">File d’attente</h2>
      <Alert error={queue.error ?? action.error} />
      <p data-testid="file-attente">{length === 0 ? "Personne n’attend cet objet." : `${length} personne${length > 1 ? "s" : ""} en attente.`}</p>
      {!mine && own?.state === "ready" && (
        <Notice>
          L’objet est revenu : il vous est réservé{own.pickup_until ? ` jusqu’au ${formatDay(own.pickup_until)}` : ""}. Demandez à l’emprunter.
        </Notice>
      )}
      {!mine && own?.state === "waiting" && <Notice>Vous êtes n° {own.position} dans la file. Vous serez prévenu au retour de l’objet.</Notice>}
      {!mine && !own && (
        <>
          <p class="hint">L’objet est prêté ? Rejoignez la file : vous serez prévenu à son retour, avant les suivants.</p>
          <button type="button" class="button button--light" disabled={action.busy} onClick={() => void join()}>
            Rejoindre la file d’attente
          </button>
        </>
      )}
      {!mine && own && (
        <ConfirmButton
          label="Quitter la file d’attente"
          question="Quitter la file d’attente ? Vous perdrez votre place."
          yes="Oui, quitter la file"
          onConfirm={() => void leave(own)}
        />
      )}
    </section>
  );
}
