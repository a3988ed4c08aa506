// The one site picker: sites grouped by their community (network), the nearest first when a
// position is known (the member's own, else their home site's), with the distance shown.
import { get } from "./api";
import { sites } from "./catalog";
import { session } from "./session";
import type { Position, Site } from "./types";
import { Field, formatDistance, useLoad } from "./ui";

const communityNames = new Map<string, Promise<string | null>>();

/** A community's name, or null when this visitor may not read it (not signed in, another network). */
export function communityName(id: string): Promise<string | null> {
  if (!communityNames.has(id)) {
    const name = session.signedIn()
      ? get<{ name: string }>(`/v1/communities/${id}`, { asSelf: true })
          .then((c) => c.name)
          .catch(() => null)
      : Promise.resolve(null);
    communityNames.set(id, name);
  }
  return communityNames.get(id)!;
}

/** Great-circle distance in metres (the haversine formula; ample for a few kilometres). */
export function distanceM(a: Position, b: Position): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return Math.round(2 * 6_371_000 * Math.asin(Math.sqrt(h)));
}

/** A network named by its first sites: "Réseau de Fives, Wazemmes…". */
export function networkLabel(list: Site[]): string {
  const names = list.slice(0, 2).map((s) => s.name);
  return `Réseau de ${names.join(", ")}${list.length > 2 ? "…" : ""}`;
}

export interface SiteGroup {
  community_id: string;
  label: string;
  sites: (Site & { distance_m?: number })[];
}

/** Where the member is, as far as the UI knows: their position, else their home site's. */
export function referencePosition(all: Site[]): Position | null {
  const me = session.me();
  if (me?.location) return me.location;
  return all.find((s) => s.id === me?.home_site_id)?.location ?? null;
}

export async function groupedSites(only?: (site: Site) => boolean, near?: Position | null): Promise<SiteGroup[]> {
  const all = await sites();
  const origin = near ?? referencePosition(all);
  const byCommunity = new Map<string, SiteGroup["sites"]>();
  for (const site of all.filter((s) => !only || only(s))) {
    const entry = { ...site, distance_m: origin ? distanceM(origin, site.location) : undefined };
    byCommunity.set(site.community_id, [...(byCommunity.get(site.community_id) ?? []), entry]);
  }
  const own = session.me()?.community_id;
  // Only one's own network's name is asked (a member may read no other); the others are
  // named by their sites, which is what a visitor recognises anyway.
  const groups = await Promise.all(
    [...byCommunity.entries()].map(async ([community_id, list]) => {
      list.sort((a, b) => (a.distance_m ?? 0) - (b.distance_m ?? 0) || a.name.localeCompare(b.name, "fr"));
      const name = community_id === own ? await communityName(community_id) : null;
      return { community_id, label: name ?? networkLabel(list), sites: list };
    }),
  );
  // One's own network first, then the nearest network first.
  const nearest = (g: SiteGroup) => g.sites[0]?.distance_m ?? 0;
  return groups.sort((a, b) => Number(b.community_id === own) - Number(a.community_id === own) || nearest(a) - nearest(b) || a.label.localeCompare(b.label, "fr"));
}

export function SitePicker({
  label,
  value,
  onChange,
  error,
  only,
  hint,
  emptyLabel = "Choisissez un lieu",
}: {
  label: string;
  value: string;
  onChange: (site: Site | undefined) => void;
  error?: string;
  only?: (site: Site) => boolean;
  hint?: string;
  emptyLabel?: string;
}) {
  const groups = useLoad(() => groupedSites(only), []);
  const list = (groups.data ?? []).flatMap((g) => g.sites);
  return (
    <Field label={label} hint={hint} error={error ?? (groups.error ? "La liste des lieux n’a pas pu être chargée." : undefined)}>
      {(p) => (
        <select {...p} value={value} onChange={(e) => onChange(list.find((s) => s.id === e.currentTarget.value))}>
          <option value="">{emptyLabel}</option>
          {(groups.data ?? []).map((g) => (
            <optgroup key={g.community_id} label={g.label}>
              {g.sites.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name} ({s.address}){s.distance_m !== undefined ? ` — ${formatDistance(s.distance_m)}` : ""}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
      )}
    </Field>
  );
}
