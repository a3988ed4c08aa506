// Reference data most pages need (sites, categories), fetched once per page load.
import { get } from "./api";
import type { Category, Page, Site } from "./types";

let sitesPromise: Promise<Site[]> | null = null;
let categoriesPromise: Promise<Category[]> | null = null;

// Bounded: a network has a few dozen sites; twenty pages of 100 is far beyond it (a test
// installation holds hundreds: the administration page missed the newest community beyond 500).
const SITE_PAGES_MAX = 20;

async function loadSites(): Promise<Site[]> {
  const sites: Site[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < SITE_PAGES_MAX; page++) {
    const answer: Page<Site> = await get<Page<Site>>(
      `/v1/sites?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      { asSelf: true },
    );
    sites.push(...answer.items);
    cursor = answer.next_cursor;
    if (!cursor) break;
  }
  return sites.sort((a, b) => a.name.localeCompare(b.name, "fr"));
}

/** Every site; `fresh` asks the API again (after a site was created or changed). */
export function sites(fresh = false): Promise<Site[]> {
  if (fresh) sitesPromise = null;
  sitesPromise ??= loadSites().catch((e) => {
    sitesPromise = null;
    throw e;
  });
  return sitesPromise;
}

export function categories(): Promise<Category[]> {
  categoriesPromise ??= get<Page<Category>>("/v1/categories", { asSelf: true })
    .then((answer) => answer.items)
    .catch((e) => {
      categoriesPromise = null;
      throw e;
    });
  return categoriesPromise;
}

export interface FlatCategory {
  slug: string;
  label: string;
  kind: "good" | "service";
  depth: number;
}

/** The tree as an indented list for a <select>, roots ("Biens", "Services") left out. */
export function flatten(tree: Category[]): FlatCategory[] {
  const out: FlatCategory[] = [];
  const walk = (nodes: Category[], depth: number, kind: "good" | "service") => {
    for (const node of nodes) {
      const nodeKind = node.kind ?? kind;
      out.push({ slug: node.slug, label: node.label, kind: nodeKind, depth });
      walk(node.children, depth + 1, nodeKind);
    }
  };
  for (const root of tree) walk(root.children, 0, root.kind ?? "good");
  return out;
}

export function categoryLabel(tree: Category[] | undefined, slug: string): string {
  return flatten(tree ?? []).find((c) => c.slug === slug)?.label ?? slug;
}

export interface ListingRef {
  side: "offer" | "request";
  id: string;
  title: string;
}

const listingTitles = new Map<string, Promise<ListingRef | null>>();

/** The offer or request an exchange is about, with its title (null when it is no longer visible). */
export function listingOf(x: { offer_id: string | null; request_id: string | null }): Promise<ListingRef | null> {
  const side: ListingRef["side"] | null = x.offer_id ? "offer" : x.request_id ? "request" : null;
  const id = x.offer_id ?? x.request_id;
  if (!side || !id) return Promise.resolve(null);
  if (!listingTitles.has(id)) {
    listingTitles.set(
      id,
      get<{ title: string }>(`/v1/${side}s/${id}`)
        .then((l) => ({ side, id, title: l.title }))
        .catch(() => null),
    );
  }
  return listingTitles.get(id)!;
}

/** The web path of a listing's page. */
export function listingPath(side: "offer" | "request", id: string): string {
  return `/annonces/${side === "offer" ? "offre" : "demande"}/${id}`;
}
