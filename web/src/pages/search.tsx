// Search: the listings' own French full-text search (`q`) with category, mode and distance
// filters, results as a list (always) and on the map at their coarse area (when tiles load).
import { useMemo, useState } from "preact/hooks";
import { get, query } from "../api";
import { categories, categoryLabel, flatten, listingPath, sites } from "../catalog";
import { MapView } from "../map";
import { referencePosition } from "../sitepicker";
import type { Listing, Page } from "../types";
import { Alert, Field, formatDistance, Loading, MODE_LABEL, PageTitle, useLoad } from "../ui";

type Side = "offer" | "request";
const RADII_KM = [1, 2, 5, 10, 25];

interface Filters {
  q: string;
  side: Side;
  category: string;
  mode: string;
  radius_km: string;
}

function fromUrl(): Filters {
  const p = new URLSearchParams(location.search);
  return {
    q: p.get("q") ?? "",
    side: p.get("type") === "demandes" ? "request" : "offer",
    category: p.get("categorie") ?? "",
    mode: p.get("mode") ?? "",
    radius_km: p.get("rayon") ?? "5",
  };
}

// The filters go in the address, so a search can be bookmarked or shared and survives a reload.
function toUrl(f: Filters) {
  const q = query({ q: f.q, type: f.side === "request" ? "demandes" : undefined, categorie: f.category, mode: f.mode, rayon: f.radius_km });
  history.replaceState(null, "", `/recherche${q}`);
}

export function SearchPage() {
  const [draft, setDraft] = useState<Filters>(fromUrl);
  const [filters, setFilters] = useState<Filters>(draft);
  const tree = useLoad(categories, []);
  const center = useLoad(async () => referencePosition(await sites()), []);
  const results = useLoad(async () => {
    const near = center.data && filters.radius_km ? { near: `${center.data.lat},${center.data.lon}`, radius_km: filters.radius_km } : {};
    const q = query({ q: filters.q.trim(), category: filters.category, mode: filters.mode, status: "active", limit: 50, ...near });
    return (await get<Page<Listing>>(`/v1/${filters.side}s${q}`)).items;
  }, [filters, center.data]);
  const markers = useMemo(
    () => (results.data ?? []).filter((l) => l.area).map((l) => ({ at: l.area!, label: l.title })),
    [results.data],
  );
  const set = (key: keyof Filters) => (e: { currentTarget: HTMLInputElement | HTMLSelectElement }) =>
    setDraft({ ...draft, [key]: e.currentTarget.value });
  const submit = (event: Event) => {
    event.preventDefault();
    setFilters(draft);
    toUrl(draft);
  };
  const modes = Object.entries(MODE_LABEL);
  return (
    <>
      <PageTitle>Chercher une annonce</PageTitle>
      <form onSubmit={submit} role="search" aria-label="Chercher des annonces" noValidate>
        <div class="filters">
          <Field label="Mots-clés" hint="Par exemple : perceuse, couture, déménagement.">
            {(p) => <input {...p} type="search" value={draft.q} onInput={set("q")} />}
          </Field>
          <Field label="Chercher parmi">
            {(p) => (
              <select {...p} value={draft.side} onChange={set("side")}>
                <option value="offer">les offres</option>
                <option value="request">les demandes</option>
              </select>
            )}
          </Field>
          <Field label="Catégorie">
            {(p) => (
              <select {...p} value={draft.category} onChange={set("category")}>
                <option value="">Toutes les catégories</option>
                {flatten(tree.data ?? []).map((c) => (
                  <option key={c.slug} value={c.slug}>{`${"\u00a0\u00a0".repeat(c.depth)}${c.label}`}</option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Type d’échange">
            {(p) => (
              <select {...p} value={draft.mode} onChange={set("mode")}>
                <option value="">Tous</option>
                {modes.map(([value, label]) => (
                  <option key={value} value={value}>
                    {label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Distance">
            {(p) => (
              <select {...p} value={draft.radius_km} onChange={set("radius_km")} disabled={!center.data}>
                {RADII_KM.map((km) => (
                  <option key={km} value={String(km)}>
                    jusqu’à {km} km
                  </option>
                ))}
                <option value="">sans limite</option>
              </select>
            )}
          </Field>
        </div>
        <button type="submit" class="button">
          Chercher
        </button>
      </form>
      {center.data && <MapView center={center.data} markers={markers} label="Carte des résultats" />}
      <Alert error={results.error} />
      <Loading when={results.loading && !results.data}>
        <h2 id="titre-resultats">
          {results.data?.length ?? 0} résultat{(results.data?.length ?? 0) > 1 ? "s" : ""}
        </h2>
        {results.data?.length ? (
          <ul class="cards" aria-labelledby="titre-resultats">
            {results.data.map((l) => (
              <li class="card" key={l.id}>
                <h3>
                  <a href={listingPath(filters.side, l.id)}>{l.title}</a>
                </h3>
                <p>
                  {MODE_LABEL[l.mode] ?? l.mode} · {categoryLabel(tree.data, l.category)}
                  {l.distance_m !== undefined ? ` · ${formatDistance(l.distance_m)}` : ""}
                  {l.partner_url && <> · <span class="badge">Communauté partenaire</span></>}
                </p>
              </li>
            ))}
          </ul>
        ) : (
          <p>Aucune annonce ne correspond. Essayez d’autres mots ou une plus grande distance.</p>
        )}
      </Loading>
    </>
  );
}
