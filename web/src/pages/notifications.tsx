// The notification inbox; new ones arrive live (see live.ts) and are added at the top.
import { useEffect } from "preact/hooks";
import { get, post } from "../api";
import { onNotifications } from "../live";
import type { Notification, Page } from "../types";
import { Alert, formatDate, Loading, PageTitle, useAction, useLoad } from "../ui";

const TEXT: Record<string, string> = {
  "exchange.proposed": "Nouvelle proposition d’échange",
  "exchange.accepted": "Échange accepté",
  "exchange.declined": "Proposition refusée",
  "exchange.cancelled": "Échange annulé",
  "exchange.completed": "Échange terminé : les crédits ont été versés",
  "exchange.confirmed": "L’autre personne a confirmé l’échange",
  "exchange.disputed": "Un problème a été signalé sur un échange",
  "exchange.resolved": "Le litige a été réglé",
  "exchange.expired": "Une proposition a expiré",
  "exchange.message": "Nouveau message",
  "exchange.handed_over": "L’objet prêté a été remis",
  "exchange.returned": "L’objet prêté a été rendu",
  "exchange.renewal_requested": "Une prolongation de prêt est demandée",
  "exchange.renewed": "Le prêt est prolongé",
  "exchange.late": "Un prêt est en retard",
  "exchange.lost": "Un objet prêté est déclaré perdu ou abîmé",
  "exchange.no_show": "Une absence a été signalée sur un échange",
  "exchange.abandoned": "Un échange a été abandonné",
  "exchange.refused": "Une action sur un échange a été refusée",
  "exchange.rated": "Un avis a été donné",
  "loan.reminder": "Rappel : un objet prêté est à rendre bientôt",
  "loan.late": "Un objet emprunté est en retard : rendez-le au plus vite",
  "loan.available": "L’objet que vous attendiez est revenu : il vous est réservé",
  "match.new": "Nouvelle correspondance",
  "reservation.expiring": "Une réservation expire bientôt",
  "item.unclaimed": "Un objet n’a pas été réclamé",
  "desk.dispute": "Un litige est à traiter à l’accueil",
  "desk.digest": "Le résumé du jour de l’accueil",
  "federation.reconciliation.differed": "Écart de rapprochement avec une communauté partenaire",
};

function describe(n: Notification): string {
  return TEXT[n.type] ?? "Du nouveau sur vos échanges";
}

export function NotificationsPage() {
  const list = useLoad(async () => (await get<Page<Notification>>("/v1/notifications?limit=50")).items, []);
  const action = useAction();
  useEffect(
    () =>
      onNotifications((fresh) =>
        list.setData((current) => {
          const known = new Set((current ?? []).map((n) => n.id));
          return [...fresh.filter((n) => !known.has(n.id)).reverse(), ...(current ?? [])];
        }),
      ),
    [],
  );
  const readAll = () =>
    action.run(async () => {
      await post("/v1/notifications/read");
      await list.reload();
    });
  return (
    <>
      <PageTitle>Notifications</PageTitle>
      <Alert error={list.error ?? action.error} />
      <button type="button" class="button button--light" onClick={readAll} disabled={action.busy}>
        Tout marquer comme lu
      </button>
      <Loading when={list.loading && !list.data}>
        {list.data?.length ? (
          <ul class="cards" aria-live="polite">
            {list.data.map((n) => {
              const exchange = (n.exchange_id ?? n.data?.exchange_id) as string | undefined;
              return (
                <li key={n.id} class={n.read ? "card" : "card card--unread"}>
                  <p>
                    {!n.read && <span class="badge">Nouveau</span>} {describe(n)}
                  </p>
                  <p class="hint">{formatDate(n.created_at)}</p>
                  {exchange && <a href={`/echanges/${exchange}`}>Voir l’échange</a>}
                </li>
              );
            })}
          </ul>
        ) : (
          <p>Aucune notification.</p>
        )}
      </Loading>
    </>
  );
}
