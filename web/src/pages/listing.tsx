// One listing: its description, category, mode, where, its owner's public profile and its
// photos when it has some; the other members can propose an exchange from here.
import { useState } from "preact/hooks";
import { ApiError, get, patch, post } from "../api";
import type { Photo } from "../api";
import { categories, categoryLabel, sites } from "../catalog";
import { MapView } from "../map";
import { session } from "../session";
import type { Item, Listing, PublicMember } from "../types";
import { Alert, CONDITION_LABEL, formatDate, formatMinutes, Loading, MODE_LABEL, Notice, PageTitle, partnerHost, STATUS_LABEL, useAction, useLoad } from "../ui";
import { ProposeForm } from "./exchanges";
import { lazy } from "../lazy";

const BookingCalendar = lazy(() => import("./bookings").then((m) => m.BookingCalendar));
const HoldQueueSection = lazy(() => import("./bookings").then((m) => m.HoldQueueSection));
import { Photos } from "./post";

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

/** One photo large, the others as thumbnails that show it in its place. */
function Gallery({ photos, title }: { photos: string[]; title: string }) {
  const [shown, setShown] = useState(0);
  const current = photos[Math.min(shown, photos.length - 1)];
  const index = photos.indexOf(current);
  return (
    <section class="gallery" aria-label="Photos">
      <a class="gallery-main" href={photoUrl(current)} aria-label={`Agrandir la photo ${index + 1} de ${title}`}>
        <img src={photoUrl(current)} alt={`Photo ${index + 1} de ${title}`} width={640} height={480} />
      </a>
      {photos.length > 1 && (
        <ul class="gallery-thumbs">
          {photos.map((photo, i) => (
            <li key={photo}>
              <button type="button" aria-pressed={i === index} onClick={() => setShown(i)} aria-label={`Voir la photo ${i + 1} sur ${photos.length}`}>
                <img src={photoUrl(photo, true)} alt="" width={72} height={72} loading="lazy" />
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The owner adds or removes photos: uploaded first (POST /v1/photos), then named on the listing. */
function PhotoEditor({ side, listing, onSaved }: { side: "offer" | "request"; listing: Listing; onSaved: (l: Listing) => void }) {
  const asPhoto = (id: string): Photo => ({ id, url: photoUrl(id), thumb_url: photoUrl(id, true) });
  const [photos, setPhotos] = useState<Photo[]>(() => (listing.photos ?? []).map(asPhoto));
  const [open, setOpen] = useState(false);
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const save = () =>
    action.run(async () => {
      onSaved(await patch<Listing>(`/v1/${side}s/${listing.id}`, { photos: photos.map((p) => p.id) }));
      setSaved(true);
      setOpen(false);
    });
  if (!open) {
    return (
      <>
        {saved && <Notice>Photos enregistrées.</Notice>}
        <button type="button" class="button button--light" onClick={() => { setSaved(false); setOpen(true); }}>
          Modifier les photos
        </button>
      </>
    );
  }
  return (
    <section aria-label="Modifier les photos">
      <Alert error={action.error} />
      <Photos photos={photos} setPhotos={setPhotos} />
      <div class="row">
        <button type="button" class="button" disabled={action.busy} onClick={() => void save()}>
          Enregistrer les photos
        </button>
        <button type="button" class="button button--light" onClick={() => setOpen(false)}>
          Annuler
        </button>
      </div>
    </section>
  );
}

// An object of a depot or objetothèque, opened from its label's QR code (the label holds
// /annonces/offre/<id>: the depot lists each object as an offer of the same id).
function ItemPage({ id }: { id: string }) {
  const item = useLoad(() => get<Item>(`/v1/items/${id}`), [id]);
  const tree = useLoad(categories, []);
  const allSites = useLoad(sites, []);
  const [until, setUntil] = useState<string | null | undefined>(undefined);
  const action = useAction();
  const i = item.data;
  const site = allSites.data?.find((s) => s.id === i?.site_id);
  const reserve = () =>
    action.run(async () => {
      const answer = await post<Item>(`/v1/items/${id}/reserve`);
      setUntil(answer.reserved_until ?? null);
      item.setData({ ...answer });
    });
  return (
    <>
      <PageTitle>{i?.title ?? "Objet"}</PageTitle>
      <Alert error={item.error instanceof ApiError && item.error.status === 404 ? new ApiError(404, "not-found", "Annonce ou objet introuvable.", []) : item.error} />
      <Loading when={item.loading && !i}>
        {i && (
          <>
            <p>
              <span class={`badge badge--${i.status}`}>{STATUS_LABEL[i.status] ?? i.status}</span> · {i.mode === "lend" ? "à emprunter" : "à donner"}
            </p>
            {i.description && <p class="quote">{i.description}</p>}
            <dl class="facts">
              <dt>Catégorie</dt>
              <dd>{categoryLabel(tree.data, i.category)}</dd>
              <dt>État</dt>
              <dd>{CONDITION_LABEL[i.condition] ?? i.condition}</dd>
              <dt>Poids</dt>
              <dd>{(i.weight_g / 1000).toLocaleString("fr-FR")} kg</dd>
              <dt>Où</dt>
              <dd>
                {site ? `${site.name} (${site.address})` : "…"}
                {site?.open_now !== undefined && (
                  <span class={site.open_now ? "badge" : "badge badge--closed"}> {site.open_now ? "ouvert en ce moment" : "fermé en ce moment"}</span>
                )}
              </dd>
              {i.due_at && (
                <>
                  <dt>Retour prévu</dt>
                  <dd>{formatDate(i.due_at)}</dd>
                </>
              )}
            </dl>
            {i.photos && i.photos.length > 0 && <Gallery photos={i.photos} title={i.title ?? "l’objet"} />}
            <Alert error={action.error} />
            {until !== undefined && <Notice>Réservé pour vous{until ? ` jusqu’au ${formatDate(until)}` : ""}. Présentez-vous à l’accueil du lieu.</Notice>}
            {i.status === "available" && (
              <button type="button" class="button" disabled={action.busy} onClick={() => void reserve()}>
                Réserver cet objet
              </button>
            )}
          </>
        )}
      </Loading>
    </>
  );
}

/**
 * A partner installation's listing proposed on from here: an offer, but a swap (a listing of
 * ours given in return does not cross installations). The exchange then lives here and its
 * owner answers from their own installation.
 */
function takenUpHere(side: "offer" | "request", l: Listing): boolean {
  return side === "offer" && l.mode !== "swap";
}

/** Where a partner installation's listing comes from, and what may be done with it from here. */
function PartnerNotice({ side, listing: l }: { side: "offer" | "request"; listing: Listing }) {
  const host = partnerHost(l.partner_url ?? "");
  if (takenUpHere(side, l)) {
    return (
      <Notice>
        Cette annonce vient d’une communauté partenaire, hébergée par {host}. Vous pouvez proposer l’échange d’ici : son auteur vous répondra depuis son
        installation.{l.mode === "lend" ? " Ses disponibilités sont tenues là-bas : les dates vous seront confirmées à son accord." : ""}
      </Notice>
    );
  }
  return (
    <Notice>
      Cette annonce vient d’une communauté partenaire, hébergée par {host}. {side === "request" ? "Une demande" : "Un troc"} se prend auprès de cette communauté :
      l’échange ne se propose pas depuis ce site. L’accueil de votre tiers-lieu peut vous mettre en relation.
    </Notice>
  );
}

export function ListingPage({ side, id }: { side: "offer" | "request"; id: string }) {
  const listing = useLoad(() => get<Listing>(`/v1/${side}s/${id}`), [side, id]);
  // The depot's objects are listed as offers too (depot_item_id): their page is the object's.
  const depotItem = listing.data?.depot_item_id;
  if (depotItem) return <ItemPage id={depotItem} />;
  if (side === "offer" && listing.error instanceof ApiError && listing.error.status === 404) return <ItemPage id={id} />;
  return <ListingView side={side} listing={listing} />;
}

function ListingView({ side, listing }: { side: "offer" | "request"; listing: ReturnType<typeof useLoad<Listing>> }) {
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
              <dd>{l.partner_url ? `un membre d’une communauté partenaire (${partnerHost(l.partner_url)})` : <Owner id={l.member_id} />}</dd>
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
              {l.mode === "lend" && (
                <>
                  <dt>Caution</dt>
                  <dd>{l.deposit_minutes ? `${formatMinutes(l.deposit_minutes)}, réservée à l’accord puis libérée au retour` : "aucune"}</dd>
                </>
              )}
              <dt>Où</dt>
              <dd>
                {site ? `${site.name} (${site.address})` : "quartier approximatif, voir la carte"}
                {site?.open_now !== undefined && (
                  <span class={site.open_now ? "badge" : "badge badge--closed"}> {site.open_now ? "ouvert en ce moment" : "fermé en ce moment"}</span>
                )}
              </dd>
            </dl>
            {l.photos && l.photos.length > 0 && <Gallery key={l.photos.join()} photos={l.photos} title={l.title} />}
            {l.member_id === session.memberId() && <PhotoEditor side={side} listing={l} onSaved={(next) => listing.setData({ ...l, ...next })} />}
            {where &&
              (showMap ? (
                <MapView center={where} markers={[]} label="Carte : où se trouve l’annonce" centerLabel="Zone de l’annonce" />
              ) : (
                <button type="button" class="button button--light" onClick={() => setShowMap(true)}>
                  Voir le quartier sur la carte
                </button>
              ))}
            {l.partner_url && <PartnerNotice side={side} listing={l} />}
            {l.member_id !== session.memberId() && l.status === "active" && (!l.partner_url || takenUpHere(side, l)) &&
              (proposing ? (
                <ProposeForm
                  target={side === "offer" ? { offer_id: l.id } : { request_id: l.id }}
                  minutes={l.price_minutes || l.duration_minutes || 60}
                  mode={side === "offer" ? l.mode : undefined}
                  partner={!!l.partner_url}
                  onCancel={() => setProposing(false)}
                />
              ) : (
                <button type="button" class="button" onClick={() => setProposing(true)}>
                  {side === "offer" && l.mode === "lend" ? "Demander à emprunter" : "Proposer un échange"}
                </button>
              ))}
            {side === "offer" && l.mode === "lend" && !l.partner_url && <BookingCalendar offerId={l.id} title={l.title} />}
            {side === "offer" && l.mode === "lend" && l.status !== "closed" && !l.partner_url && (
              <HoldQueueSection offerId={l.id} mine={l.member_id === session.memberId()} />
            )}
          </>
        )}
      </Loading>
    </>
  );
}
