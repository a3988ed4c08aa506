// The member's home: "mes correspondances" (the engine's matches for my listings) and
// "près de chez moi" (active listings around my position or my home site, list and map).
import { useEffect, useMemo, useState } from "preact/hooks";
import { get, query } from "../api";
import { categories, categoryLabel, listingPath, sites } from "../catalog";
import { MapView } from "../map";
import { session } from "../session";
import type { Listing, Match, NearbyListing, Page, Position } from "../types";
import { Alert, Field, formatDistance, Loading, MODE_LABEL, PageTitle, useLoad } from "../ui";
import { ProposeForm } from "./exchanges";

// The first matches are the best; more would not fit a phone screen and are rarely useful.
const MATCHES_SHOWN_MAX = 10;

interface MatchView {
  match: Match;
  offer?: Listing;
  request?: Listing;
}

async function listingOr(path: string): Promise<Listing | undefined> {
  try {
    return await get<Listing>(path);
  } catch {
    return undefined; // closed or no longer visible: the match still shows, without its title
  }
}

async function loadMatches(): Promise<MatchView[]> {
  const page = await get<Page<Match>>("/v1/matches?member=me");
  const shown = page.items.slice(0, MATCHES_SHOWN_MAX);
  return Promise.all(
    shown.map(async (match) => ({
      match,
      offer: await listingOr(`/v1/offers/${match.offer_id}`),
      request: await listingOr(`/v1/requests/${match.request_id}`),
    })),
  );
}

function MatchCard({ view, me }: { view: MatchView; me: string }) {
  const [open, setOpen] = useState(false);
  const mine = view.request?.member_id === me ? "request" : "offer";
  const other = mine === "request" ? view.offer : view.request;
  const own = mine === "request" ? view.request : view.offer;
  const title = other?.title ?? "Annonce";
  return (
    <li class="card">
      <h3>{title}</h3>
      <p>
        {mine === "request" ? "Une offre" : "Une demande"} qui correspond à votre {mine === "request" ? "demande" : "offre"}{" "}
        « {own?.title ?? "…"} » — {formatDistance(view.match.distance_m)}
      </p>
      {open ? (
        <ProposeForm
          target={{ match_id: view.match.id }}
          minutes={other?.price_minutes || other?.duration_minutes || own?.duration_minutes || 60}
          onCancel={() => setOpen(false)}
        />
      ) : (
        <button type="button" class="button" onClick={() => setOpen(true)} aria-label={`Proposer un échange : ${title}`}>
          Proposer un échange
        </button>
      )}
    </li>
  );
}

function Matches({ onSettled }: { onSettled: () => void }) {
  const me = session.memberId() ?? "";
  const matches = useLoad(loadMatches, [me]);
  useEffect(() => {
    if (!matches.loading) onSettled();
  }, [matches.loading]);
  return (
    <section aria-labelledby="titre-correspondances">
      <div class="section-head">
        <h2 id="titre-correspondances">Mes correspondances</h2>
        <button type="button" class="button button--light" onClick={() => void matches.reload()}>
          Actualiser
        </button>
      </div>
      <Alert error={matches.error} />
      <Loading when={matches.loading && !matches.data}>
        {matches.data?.length ? (
          <ul class="cards" aria-label="Correspondances">
            {matches.data.map((view) => (
              <MatchCard key={view.match.id} view={view} me={me} />
            ))}
          </ul>
        ) : (
          <p>
            Pas encore de correspondance. <a href="/publier">Publiez une offre ou une demande</a> : Maillon vous préviendra dès
            qu’une annonce proche y répond.
          </p>
        )}
      </Loading>
    </section>
  );
}

async function homePosition(): Promise<Position | null> {
  const me = session.me();
  if (me?.location) return me.location;
  const home = (await sites()).find((s) => s.id === me?.home_site_id);
  return home?.location ?? null;
}

function NearbyItem({ item, label }: { item: NearbyListing; label: string }) {
  const [open, setOpen] = useState(false);
  const target = item.side === "offer" ? { offer_id: item.id } : { request_id: item.id };
  return (
    <li class="card">
      <h3>
        <a href={listingPath(item.side, item.id)}>{item.title}</a>
      </h3>
      <p>
        {item.side === "offer" ? "Offre" : "Demande"} · {MODE_LABEL[item.mode] ?? item.mode} · {label} ·{" "}
        {formatDistance(item.distance_m)}
      </p>
      {item.member_id !== session.memberId() &&
        (open ? (
          <ProposeForm target={target} minutes={60} onCancel={() => setOpen(false)} />
        ) : (
          <button type="button" class="button button--light" onClick={() => setOpen(true)} aria-label={`Proposer un échange : ${item.title}`}>
            Proposer un échange
          </button>
        ))}
    </li>
  );
}

function Nearby() {
  const [side, setSide] = useState<"offer" | "request">("offer");
  const [geo, setGeo] = useState<Position | null>(null);
  const [geoError, setGeoError] = useState("");
  const home = useLoad(homePosition, []);
  const tree = useLoad(categories, []);
  const center = geo ?? home.data ?? null;
  const nearby = useLoad(async () => {
    if (!center) return [];
    // The listings' own search, nearest first: it gives each one's coarse `area` for the map
    // and its author (no "propose" on one's own), which /v1/nearby does not.
    const q = query({ near: `${center.lat},${center.lon}`, radius_km: 5, status: "active", limit: 30 });
    const page = await get<Page<Listing>>(`/v1/${side}s${q}`);
    return page.items.map((item): NearbyListing => ({ ...item, side, distance_m: item.distance_m ?? 0 }));
  }, [center?.lat, center?.lon, side]);
  const markers = useMemo(
    () => (nearby.data ?? []).filter((i) => i.area).map((i) => ({ at: i.area!, label: i.title })),
    [nearby.data],
  );
  const locate = () => {
    setGeoError("");
    if (!navigator.geolocation) return setGeoError("Votre navigateur ne donne pas de position.");
    navigator.geolocation.getCurrentPosition(
      (p) => setGeo({ lat: p.coords.latitude, lon: p.coords.longitude }),
      () => setGeoError("Position refusée ou indisponible : nous utilisons votre lieu de rattachement."),
      { timeout: 10_000 },
    );
  };
  return (
    <section aria-labelledby="titre-proches">
      <h2 id="titre-proches">Près de chez moi</h2>
      <div class="row">
        <Field label="Afficher">
          {(p) => (
            <select {...p} value={side} onChange={(e) => setSide(e.currentTarget.value as "offer" | "request")}>
              <option value="offer">Les offres</option>
              <option value="request">Les demandes</option>
            </select>
          )}
        </Field>
        <button type="button" class="button button--light" onClick={locate}>
          Utiliser ma position actuelle
        </button>
      </div>
      {geoError && <p class="hint" role="status">{geoError}</p>}
      {!center && !home.loading && <p>Indiquez votre position ou un lieu de rattachement pour voir les annonces proches.</p>}
      {center && <MapView center={center} markers={markers} label="Carte des annonces proches" />}
      <Alert error={nearby.error} />
      <Loading when={nearby.loading && !nearby.data}>
        {nearby.data?.length ? (
          <ul class="cards" aria-label="Annonces proches">
            {nearby.data.map((item) => (
              <NearbyItem key={item.id} item={item} label={categoryLabel(tree.data, item.category)} />
            ))}
          </ul>
        ) : (
          center && <p>Aucune annonce active dans un rayon de 5 km.</p>
        )}
      </Loading>
    </section>
  );
}

export function HomePage() {
  const [settled, setSettled] = useState(false);
  const acting = session.actingFor();
  const me = session.me();
  return (
    <>
      <PageTitle>Bonjour {acting?.display_name ?? me?.display_name ?? ""}</PageTitle>
      {/* "Près de chez moi" comes once the matches above are drawn: it never jumps down the page. */}
      <Matches onSettled={() => setSettled(true)} />
      {settled && <Nearby />}
    </>
  );
}
