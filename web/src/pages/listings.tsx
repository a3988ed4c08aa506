// My listings: offers and requests still open (active, paused, reserved), to pause, resume or close.
import { del, get, patch } from "../api";
import { session } from "../session";
import type { Listing, Page } from "../types";
import { listingPath } from "../catalog";
import { Alert, ConfirmButton, Loading, MODE_LABEL, PageTitle, STATUS_LABEL, useAction, useLoad } from "../ui";

const OPEN_STATUSES = ["active", "paused", "reserved"] as const;
type Side = "offers" | "requests";

async function mine(side: Side, member: string): Promise<Listing[]> {
  const pages = await Promise.all(
    OPEN_STATUSES.map((status) => get<Page<Listing>>(`/v1/${side}?member_id=${member}&status=${status}&limit=100`)),
  );
  return pages.flatMap((p) => p.items).sort((a, b) => b.created_at.localeCompare(a.created_at));
}

function ListingRow({ side, item, reload }: { side: Side; item: Listing; reload: () => Promise<void> }) {
  const action = useAction();
  const setStatus = (status: "paused" | "active") =>
    action.run(async () => {
      await patch(`/v1/${side}/${item.id}`, { status });
      await reload();
    });
  const close = () =>
    action.run(async () => {
      await del(`/v1/${side}/${item.id}`);
      await reload();
    });
  return (
    <li class="card">
      <h3>
        <a href={listingPath(side === "offers" ? "offer" : "request", item.id)}>{item.title}</a>
      </h3>
      <p>
        <span class={`badge badge--${item.status}`}>{STATUS_LABEL[item.status] ?? item.status}</span> ·{" "}
        {MODE_LABEL[item.mode] ?? item.mode}
      </p>
      <Alert error={action.error} />
      <div class="row">
        {item.status === "active" && (
          <button type="button" class="button button--light" disabled={action.busy} onClick={() => setStatus("paused")} aria-label={`Mettre en pause : ${item.title}`}>
            Mettre en pause
          </button>
        )}
        {item.status === "paused" && (
          <button type="button" class="button button--light" disabled={action.busy} onClick={() => setStatus("active")} aria-label={`Réactiver : ${item.title}`}>
            Réactiver
          </button>
        )}
        <ConfirmButton
          label="Clôturer"
          ariaLabel={`Clôturer : ${item.title}`}
          question={`Clôturer « ${item.title} » ? L’annonce ne sera plus visible.`}
          yes="Oui, clôturer"
          disabled={action.busy}
          onConfirm={close}
        />
      </div>
    </li>
  );
}

function Section({ side, title }: { side: Side; title: string }) {
  const member = session.memberId() ?? "";
  const list = useLoad(() => mine(side, member), [side, member]);
  return (
    <section aria-labelledby={`titre-${side}`}>
      <h2 id={`titre-${side}`}>{title}</h2>
      <Alert error={list.error} />
      <Loading when={list.loading && !list.data}>
        {list.data?.length ? (
          <ul class="cards">
            {list.data.map((item) => (
              <ListingRow key={item.id} side={side} item={item} reload={list.reload} />
            ))}
          </ul>
        ) : (
          <p>Aucune annonce ouverte.</p>
        )}
      </Loading>
    </section>
  );
}

export function ListingsPage() {
  return (
    <>
      <PageTitle>Mes annonces</PageTitle>
      <p>
        <a class="button" href="/publier">Publier une annonce</a>
      </p>
      <Section side="offers" title="Mes offres" />
      <Section side="requests" title="Mes demandes" />
    </>
  );
}
