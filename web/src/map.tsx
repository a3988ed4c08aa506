// A Leaflet map of nearby listings. The tile server is configuration (config.json or
// window.MAILLON_TILES): with none, or when tiles fail to load, the page keeps its list and
// says so, because the list is the part everyone can read.
import { useEffect, useRef, useState } from "preact/hooks";
import type { Position } from "./types";

export interface TileConfig {
  url: string;
  attribution?: string;
  max_zoom?: number;
}

declare global {
  interface Window {
    MAILLON_TILES?: string | TileConfig;
  }
}

let configPromise: Promise<TileConfig | null> | null = null;

export function tileConfig(): Promise<TileConfig | null> {
  const override = window.MAILLON_TILES;
  if (override !== undefined) {
    return Promise.resolve(typeof override === "string" ? (override ? { url: override } : null) : override);
  }
  configPromise ??= fetch("/config.json")
    .then((r) => (r.ok ? r.json() : {}))
    .then((c: { tiles?: TileConfig | null }) => (c.tiles?.url ? c.tiles : null))
    .catch(() => null);
  return configPromise;
}

export interface Marker {
  at: Position;
  label: string;
}

// Leaflet puts a string given to a popup or a tooltip in the page as HTML: a listing titled
// `<img src=x onerror=...>` would run. Members' words go in as a text node, never as markup.
function asText(text: string): HTMLElement {
  const element = document.createElement("span");
  element.textContent = text;
  return element;
}

// Tiles that fail this many times mean the server is out of reach; one miss can be chance.
const TILE_ERRORS_MAX = 3;

export function MapView({ center, markers, label, centerLabel = "Vous" }: { center: Position; markers: Marker[]; label: string; centerLabel?: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<"loading" | "ok" | "none" | "failed">("loading");
  // Leaflet and its tiles load once the map comes near the screen: a map below the fold costs
  // nothing to a member who never scrolls to it.
  const [near, setNear] = useState(false);
  useEffect(() => {
    if (near || !box.current) return;
    if (!("IntersectionObserver" in window)) return setNear(true);
    const watch = new IntersectionObserver((seen) => seen.some((e) => e.isIntersecting) && setNear(true), { rootMargin: "200px" });
    watch.observe(box.current);
    return () => watch.disconnect();
  }, [near]);
  useEffect(() => {
    if (!near) return;
    let map: import("leaflet").Map | null = null;
    let cancelled = false;
    void (async () => {
      const tiles = await tileConfig();
      if (cancelled || !box.current) return;
      if (!tiles) return setState("none");
      // Leaflet's code and styles come with the first map, not with every page.
      const [L] = await Promise.all([import("leaflet"), import("leaflet/dist/leaflet.css")]);
      if (cancelled || !box.current) return;
      map = L.map(box.current, { scrollWheelZoom: false }).setView([center.lat, center.lon], 13);
      let errors = 0;
      L.tileLayer(tiles.url, { attribution: tiles.attribution, maxZoom: tiles.max_zoom ?? 19 })
        .on("tileerror", () => {
          if (++errors === TILE_ERRORS_MAX) setState("failed");
        })
        .addTo(map);
      L.circleMarker([center.lat, center.lon], { radius: 9, color: "#1d4ed8", weight: 3 })
        .bindTooltip(asText(centerLabel))
        .addTo(map);
      for (const m of markers) {
        L.circleMarker([m.at.lat, m.at.lon], { radius: 8, color: "#1e5631", weight: 2, fillOpacity: 0.6 })
          .bindPopup(asText(m.label))
          .addTo(map);
      }
      setState("ok");
    })();
    return () => {
      cancelled = true;
      map?.remove();
    };
  }, [near, center.lat, center.lon, markers]);
  return (
    <div class="map-wrap">
      {state === "none" && <p class="hint">Aucune carte n’est configurée : la liste ci-dessous donne les mêmes annonces.</p>}
      {state === "failed" && (
        <p class="hint" role="status">
          La carte n’a pas pu être chargée. La liste ci-dessous donne les mêmes annonces.
        </p>
      )}
      <div ref={box} class={state === "none" ? "map map--hidden" : "map"} role="region" aria-label={label} />
    </div>
  );
}
