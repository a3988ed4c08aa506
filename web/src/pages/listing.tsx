// One listing: its description, category, mode, where, its owner's public profile and its
// photos when it has some; the other members can propose an exchange from here.
import { useState } from "preact/hooks";
import { ApiError, get } from "../api";
import { categories, categoryLabel, sites } from "../catalog";
import { MapView } from "../map";
import { session } from "../session";
import type { Listing, PublicMember } from "../types";
import { Alert, formatMinutes, Loading, MODE_LABEL, PageTitle, STATUS_LABEL, useLoad } from "../ui";
import { ProposeForm } from "./exchanges";

// Where the media service's files are served (services/media: /media/<2 hex>/<id>.jpg).
export function photoUrl(id: string, thumb = false): string {
  if (/^(https?:)?\//.test(id)) return id; // an address already (listings of an earlier version)
  return `/media/${id.slice(0, 2)}/${id}${thumb ? "-thumb" : ""}.jpg`;
}

function gone(error: unknown): unknown {
  return error instanceof ApiError && error.status === 404 ? new ApiError(404, error.code, "Annonce introuvable.", []) : error;
}

function Owner({ id }: { id: string }) {
  const owner = useLoad(() => get<PublicMember>(`/v1/members/${id}`), [id]);
  const o = owner.data;
  if (!o) return <>…</>;
  const rating = o.rating_count ? ` · ${o.rating_average?.toLocaleString("fr-FR", { maximumFractionDigits: 1 })}/5 (${o.rating_count} avis)` : "";
  return (
    <>
      {id === session.memberId() ? "vous" : o.display_name} · {o.exchanges_completed ?? 0} échange(s) terminé(s){rating}
    </>
  );
}

export function ListingPage({ side, id }: { side: "offer" | "request"; id: string }) {
  const listing = useLoad(() => get<Listing>(`/v1/${side}s/${id}`), [side, id]);
  const tree = useLoad(categories, []);
  const allSites = useLoad(sites, []);
  const [proposing, setProposing] = useState(false);
  // The place is written above; the map (and its tiles) only when asked for.
  const [showMap, setShowMap] = useState(false);
  const l = listing.data;
  const site = allSites.data?.find((s) => s.id === l?.site_id);
  const where = l?.area ?? site?.location ?? null;
  return (
    <>
      <PageTitle>{l?.title ?? (side === "offer" ? "Offre" : "Demande")}</PageTitle>
      <Alert error={gone(listing.error)} />
      <Loading when={listing.loading && !l}>
        {l && (
          <>
            <p>
              <span class={`badge badge--${l.status}`}>{STATUS_LABEL[l.status] ?? l.status}</span> · {side === "offer" ? "Offre" : "Demande"} ·{" "}
              {MODE_LABEL[l.mode] ?? l.mode}
            </p>
            {l.description ? <p class="quote">{l.description}</p> : <p class="hint">Pas de description.</p>}
            <dl class="facts">
              <dt>Catégorie</dt>
              <dd>{categoryLabel(tree.data, l.category)}</dd>
              <dt>Proposée par</dt>
              <dd>
                <Owner id={l.member_id} />
              </dd>
              {l.price_minutes > 0 && (
                <>
                  <dt>Crédits demandés</dt>
                  <dd>{formatMinutes(l.price_minutes)}</dd>
                </>
              )}
              {l.duration_minutes ? (
                <>
                  <dt>Durée</dt>
                  <dd>{formatMinutes(l.duration_minutes)}</dd>
                </>
              ) : null}
              <dt>Où</dt>
              <dd>
                {site ? `${site.name} (${site.address})` : "quartier approximatif, voir la carte"}
                {site?.open_now !== undefined && (
                  <span class={site.open_now ? "badge" : "badge badge--closed"}> {site.open_now ? "ouvert en ce moment" : "fermé en ce moment"}</span>
                )}
              </dd>
            </dl>
            {l.photos && l.photos.length > 0 && (
              <ul class="photos" aria-label="Photos">
                {l.photos.map((photo, i) => (
                  <li key={photo}>
                    <a href={photoUrl(photo)}>
                      <img src={photoUrl(photo, true)} alt={`Photo ${i + 1} de ${l.title}`} loading="lazy" width={192} height={192} />
                    </a>
                  </li>
                ))}
              </ul>
            )}
            {where &&
              (showMap ? (
                <MapView center={where} markers={[]} label="Carte : où se trouve l’annonce" centerLabel="Zone de l’annonce" />
              ) : (
                <button type="button" class="button button--light" onClick={() => setShowMap(true)}>
                  Voir le quartier sur la carte
                </button>
              ))}
            {l.member_id !== session.memberId() && l.status === "active" &&
              (proposing ? (
                <ProposeForm
                  target={side === "offer" ? { offer_id: l.id } : { request_id: l.id }}
                  minutes={l.price_minutes || l.duration_minutes || 60}
                  onCancel={() => setProposing(false)}
                />
              ) : (
                <button type="button" class="button" onClick={() => setProposing(true)}>
                  Proposer un échange
                </button>
              ))}
          </>
        )}
      </Loading>
    </>
  );
}
