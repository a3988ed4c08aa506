// An object's bookings as a month (GET /v1/offers/{id}/calendar), its queue while it is lent
// (holds) and the member's private calendar feed (GET /v1/me/calendar): loaded on demand, by the
// pages that show them.
import { useState } from "preact/hooks";
import { del, get, post } from "../api";
import { session } from "../session";
import type { OfferCalendar } from "../types";
import { Alert, ConfirmButton, Field, formatDay, Loading, Notice, useAction, useLoad } from "../ui";
import { apiTime, dayOf } from "./loans";

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
