// Loans and swaps between members: the dates a borrower asks for and the steps of a loan on its
// exchange page (hand-over, return, renewal, lost). The booking month, the queue and the
// calendar feed are in bookings.tsx, loaded when a page shows them.
import { useState } from "preact/hooks";
import type { Exchange } from "../types";
import { ConfirmButton, Field, fieldError, formatDay, formatMinutes, Notice } from "../ui";

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
      {!x.partner_url && (
        <>
          <dt>Prolongations</dt>
          <dd>
            {x.renewals ?? 0} sur {x.max_renewals ?? 2}
            {x.requested_due_at ? ` · demandée jusqu’au ${formatDay(x.requested_due_at)}` : ""}
          </dd>
        </>
      )}
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

/**
 * What each person may do at this step of a loan or a swap; staff act for both parties. With a
 * partner installation (`partner`) only the hand-over and the return cross: no renewal, no loss.
 */
export function LoanSteps({
  exchange: x,
  role,
  partner = false,
  act,
}: {
  exchange: Exchange;
  role: Role;
  partner?: boolean;
  act: (verb: string, body?: unknown) => Promise<void>;
}) {
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
    if (role === "provider" && x.requested_due_at && !partner)
      out.push(
        <button type="button" class="button" onClick={() => act("renew/accept")}>
          Accepter la prolongation jusqu’au {formatDay(x.requested_due_at)}
        </button>,
      );
    if (role === "staff" && !partner)
      out.push(
        <ConfirmButton
          label="Déclarer l’objet perdu ou abîmé"
          question="Déclarer l’objet perdu ou abîmé ? La caution sera versée au propriétaire et le prêt prendra fin."
          yes="Oui, l’objet est perdu ou abîmé"
          onConfirm={() => void act("lost")}
        />,
      );
  }
  const canRenew =
    loan && !partner && role === "receiver" && x.state === "handed_over" && !x.requested_due_at && (x.renewals ?? 0) < (x.max_renewals ?? 2);
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

