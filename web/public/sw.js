// Maillon's service worker: the app's shell (index.html and its hashed files) is kept so the
// app opens without a network, and the member's own recent data (their profile, exchanges,
// credits, notifications, and what those pages name) is kept from the last time it was read, so
// it stays readable offline. The network always comes first for data; the copy is used only
// when the network cannot be reached. Nothing is kept of a call made for another member (staff
// acting for someone), and the data copy is dropped when the member signs out.
// Built into dist/sw.js with PRECACHE and VERSION filled in by scripts/compress.mjs.
const VERSION = "dev";
const PRECACHE = ["/", "/manifest.webmanifest", "/config.json", "/icon-192.png"];
const SHELL = `maillon-shell-${VERSION}`;
const DATA = "maillon-data";

// The member's own reads worth keeping; the notifications stream never is (it never ends).
const KEPT = [
  /^\/v1\/me$/,
  /^\/v1\/exchanges(\/[0-9a-f-]{36}(\/messages)?)?$/,
  /^\/v1\/ledger\/accounts\/[0-9a-f-]{36}(\/entries)?$/,
  /^\/v1\/notifications$/,
  /^\/v1\/(offers|requests)(\/[0-9a-f-]{36})?$/,
  /^\/v1\/members\/[0-9a-f-]{36}$/,
  /^\/v1\/(sites|categories)$/,
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL)
      .then((cache) => cache.addAll(PRECACHE))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("maillon-shell-") && k !== SHELL).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// The page says when the member signs out (or changes): their data copy goes.
self.addEventListener("message", (event) => {
  if (event.data === "forget-data") event.waitUntil(caches.delete(DATA));
});

async function networkFirst(request, cacheName) {
  try {
    const response = await fetch(request);
    if (response.ok) {
      const copy = response.clone();
      void caches.open(cacheName).then((cache) => cache.put(request, copy));
    }
    return response;
  } catch (error) {
    const kept = await caches.match(request, { cacheName });
    if (!kept) throw error;
    // Said to be a copy, so the page can tell the member what they see may be dated.
    const headers = new Headers(kept.headers);
    headers.set("X-Maillon-Copy", "1");
    return new Response(kept.body, { status: kept.status, statusText: kept.statusText, headers });
  }
}

async function shellFirst(request) {
  const kept = await caches.match(request, { cacheName: SHELL });
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok) {
    const copy = response.clone();
    void caches.open(SHELL).then((cache) => cache.put(request, copy));
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    // Pages: the network's index.html (never cached by HTTP), else the kept one.
    event.respondWith(
      fetch(request).catch(async () => (await caches.match("/", { cacheName: SHELL })) ?? Response.error()),
    );
    return;
  }
  if (url.pathname.startsWith("/assets/")) {
    event.respondWith(shellFirst(request));
    return;
  }
  if (url.pathname.startsWith("/v1/")) {
    if (request.headers.has("X-On-Behalf-Of") || !KEPT.some((re) => re.test(url.pathname))) return;
    event.respondWith(networkFirst(request, DATA));
  }
});
