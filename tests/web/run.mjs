// Browser scenarios of the Maillon web UI, run by script/test: playwright-core drives Debian's
// chromium (headless) against the gateway, with the gateway's Content-Security-Policy on: any
// violation it reports, or any dialog a page opens, fails the test it happens in. axe-core
// checks each main page (no violation at all); screenshots of each main page at 390 px (a
// phone) and 1280 px go to $MAILLON_SCREENSHOTS. Journeys run on a desktop and on a phone.
// Exits non-zero on any failure.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { generateKeyPairSync, randomUUID, sign } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, test } from "node:test";
import { chromium } from "playwright-core";

import { pollUntil as poll } from "../support/poll.mjs";

const BASE = (process.env.MAILLON_BASE_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
const SCREENS = process.env.MAILLON_SCREENSHOTS ?? "/tmp/maillon-screens";
const ADMIN_EMAIL = process.env.MAILLON_ADMIN_EMAIL ?? "admin@maillon.local";
const ADMIN_PASSWORD = process.env.MAILLON_ADMIN_PASSWORD ?? "maillon-admin-dev";
// Debian's headless shell (chromium-headless-shell): the same engine as the desktop browser, at
// two thirds of its CPU here. Its binary, not /usr/bin's wrapper script, which starts it as a
// child: killing the wrapper left the browser running, holding this process's pipe open. (The
// process group stays this one's: a step stopped by `timeout` stops the browser with it.)
const HEADLESS_SHELL = "/usr/lib/chromium/chromium-headless-shell";
const CHROMIUM = process.env.MAILLON_CHROMIUM ?? (existsSync(HEADLESS_SHELL) ? HEADLESS_SHELL : "/usr/bin/chromium");
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const PASSWORD = "mot-de-passe-essai-2025";
const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
// Waits on conditions, never fixed sleeps: these bound how long a condition may take.
const WAIT_MS = 15_000;
const POLL_MS = 250;
const RATE_LIMIT_WAIT_MS = 60_000; // a rate limit's window, at most, before a refused call fails
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
// A title made to run a script wherever a page would treat a member's words as HTML.
const MARKUP_TITLE = `<img src=x onerror=alert(1)> ${RUN}`;

let browser;
let chromiumProcess;
let profileDir;
const world = { site: null, offerOwner: null, requester: null, staff: null, adminToken: null };
const axeReport = [];
// What the pages reported that must never happen: CSP violations, dialogs (alert() from
// injected markup), uncaught errors. Checked and emptied after each test.
const incidents = [];

// ------------------------------------------------------------------------------ API helpers
async function api(method, path, body, token) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const send = () => fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let response = await send();
  // Registration and login are rate limited: asked again (the journeys' one poll) until the
  // limiter lets the request through.
  if (response.status === 429) {
    await pollUntil(
      async () => (response = await send()).status !== 429,
      () => `${method} ${path}: still refused by the rate limit (429)`,
      RATE_LIMIT_WAIT_MS,
    );
  }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${text}`);
  return data;
}

async function registerViaApi(label) {
  const email = `${label}.${RUN}@essai.maillon.local`;
  const display_name = `${label[0].toUpperCase()}${label.slice(1)} ${RUN}`;
  // As the administrator (as the e2e suites do): anonymous sign-ups are limited per client
  // address, and every journey registers from the same one.
  const session = await api(
    "POST",
    "/v1/auth/register",
    { email, password: PASSWORD, display_name, community_id: world.site.community_id, home_site_id: world.site.id },
    world.adminToken,
  );
  return { id: session.member.id, token: session.token, email, display_name };
}

async function balance(member) {
  return (await api("GET", `/v1/ledger/accounts/${member.id}`, undefined, member.token)).balance_minutes;
}

// Same wording as the UI's formatMinutes: 90 → "1 h 30".
function formatMinutes(minutes) {
  const sign = minutes < 0 ? "-" : "";
  const total = Math.abs(minutes);
  const hours = Math.floor(total / 60);
  const rest = total % 60;
  if (hours === 0) return `${sign}${rest} min`;
  return rest === 0 ? `${sign}${hours} h` : `${sign}${hours} h ${String(rest).padStart(2, "0")}`;
}

// ------------------------------------------------------------------------------ browser
async function startChromium() {
  profileDir = mkdtempSync(join(tmpdir(), "maillon-chromium-"));
  const args = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    // Map tiles and anything off-site are refused (no name resolves but the site's): the pages
    // must stay usable without them. The browser refuses them itself; intercepting every request
    // through DevTools instead cost a round trip to this process per file of every page.
    `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE ${new URL(BASE).hostname}`,
    `--user-data-dir=${profileDir}`,
    "--remote-debugging-port=0",
    "about:blank",
  ];
  chromiumProcess = spawn(CHROMIUM, args, { stdio: ["ignore", "ignore", "pipe"] });
  const wsUrl = await new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`chromium did not start: ${seen}`)), WAIT_MS);
    chromiumProcess.on("exit", (code) => reject(new Error(`chromium exited (${code}): ${seen}`)));
    chromiumProcess.stderr.on("data", (chunk) => {
      seen += chunk;
      const found = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    });
  });
  return chromium.connectOverCDP(wsUrl);
}

/**
 * A fresh browser session (its own cookies and storage) that only reaches the Maillon origin:
 * a desktop, or a phone (390 px, touch). `at` gives the browser a position ({lat, lon}).
 */
async function newPage({ phone = false, at = null, installable = false } = {}) {
  // Chromium installs no app from an incognito context: the install journey uses the
  // browser's own profile (a scratch directory, see startChromium).
  const context = installable
    ? browser.contexts()[0]
    : await browser.newContext({
        locale: "fr-FR",
        // The sites' days are Europe/Paris days (the desk's "today", a loan's dates).
        timezoneId: "Europe/Paris",
        viewport: phone ? PHONE : DESKTOP,
        ...(phone ? { isMobile: true, hasTouch: true } : {}),
        ...(at ? { geolocation: { latitude: at.lat, longitude: at.lon }, permissions: ["geolocation"] } : {}),
      });
  // The page's own report of what its CSP blocked, passed out through a DevTools binding (the
  // CSP does not apply to what DevTools injects, so this works under the strictest policy).
  await context.exposeBinding("__maillonCspViolation", ({ page }, v) => incidents.push({ csp: v, url: page.url() }));
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      window.__maillonCspViolation({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample, source: `${e.sourceFile}:${e.lineNumber}` }),
    );
  });
  const page = await context.newPage();
  if (installable) await page.setViewportSize(phone ? PHONE : DESKTOP);
  page.setDefaultTimeout(WAIT_MS);
  page.on("console", (message) => {
    const text = message.text();
    if (/Content[- ]Security[- ]Policy/i.test(text)) incidents.push({ console: text, url: page.url() });
    // Any error a script logs. The browser's own line for a refused request is not one: the
    // journeys refuse the map tiles and send wrong passwords on purpose.
    else if (message.type() === "error" && !/^Failed to load resource/.test(text)) incidents.push({ consoleError: text, url: page.url() });
  });
  page.on("dialog", (dialog) => {
    incidents.push({ dialog: `${dialog.type()}: ${dialog.message()}`, url: page.url() });
    void dialog.dismiss();
  });
  page.on("pageerror", (error) => incidents.push({ pageerror: String(error), url: page.url() }));
  return page;
}

async function checkAxe(page, name) {
  // Evaluated through DevTools rather than added as a <script>: the CSP refuses inline scripts.
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ["violations"] })).violations);
  axeReport.push({ name, violations: violations.length });
  assert.deepEqual(
    violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(" | ")}`),
    [],
    `axe-core on ${name}`,
  );
}

/** A phone never scrolls the whole page sideways (a wide table scrolls in its own box). */
async function assertNoSidewaysScroll(page, name) {
  // The screen is the viewport asked for: a phone browser widens its layout (zooms out) to fit
  // content wider than the screen, and would then report its own wider width.
  const width = page.viewportSize().width;
  const [scroll, wide] = await page.evaluate((screen) => {
    const over = [...document.querySelectorAll("body *")]
      .filter((e) => e.getBoundingClientRect().right > screen + 0.5 && !e.parentElement?.closest(".table-wrap, .nav, .leaflet-container"))
      .map((e) => `${e.tagName.toLowerCase()}.${e.className}`)
      .slice(0, 5);
    return [document.documentElement.scrollWidth, over];
  }, width);
  assert.ok(scroll <= width, `${name}: the page is ${scroll} px wide on a ${width} px screen (${wide.join(", ")})`);
}

/** The number the navigation's badge shows (0 without one). */
async function badgeOf(page) {
  const name = (await page.getByRole("link", { name: /^Notifications/ }).textContent()) ?? "";
  return Number(/\((\d+)\)/.exec(name)?.[1] ?? 0);
}

/** Screenshots and the accessibility check at phone and desktop width (a phone: its own only). */
async function capture(page, name) {
  const phone = page.viewportSize().width === PHONE.width;
  for (const size of phone ? [PHONE] : [PHONE, DESKTOP]) {
    await page.setViewportSize(size);
    await page.screenshot({ path: join(SCREENS, `${name}-${size.width}.png`), fullPage: true });
    await checkAxe(page, `${name} @${size.width}px`);
    if (size === PHONE) await assertNoSidewaysScroll(page, name);
  }
  if (!phone) await page.setViewportSize(DESKTOP);
}

/** The session is the API's cookies, out of the page's scripts' reach; nothing in storage. */
async function assertCookieSession(page) {
  const cookies = await page.context().cookies(BASE);
  const session = cookies.find((c) => c.name === "maillon_session");
  assert.ok(session?.value, `the API set the session cookie (cookies: ${cookies.map((c) => c.name).join(", ") || "none"})`);
  assert.equal(session.httpOnly, true, "maillon_session is HttpOnly");
  assert.equal(session.secure, true, "maillon_session is Secure");
  assert.equal(session.sameSite, "Lax", "maillon_session is SameSite=Lax");
  const csrf = cookies.find((c) => c.name === "maillon_csrf");
  assert.ok(csrf?.value && !csrf.httpOnly, "maillon_csrf is set and readable by the page");
  const stored = await page.evaluate(() => JSON.stringify([{ ...localStorage }, { ...sessionStorage }]));
  assert.ok(!stored.includes(session.value) && !/token/i.test(stored), `no session token in the browser's storage: ${stored}`);
  assert.equal(await page.evaluate(() => document.cookie.includes("maillon_session")), false, "scripts cannot read the session");
}

/** The signed-in member's id, asked the way the UI does (the cookie goes along). */
async function memberIdOf(page) {
  return page.evaluate(async () => (await (await fetch("/v1/me", { headers: { Accept: "application/json" } })).json()).id);
}

async function loginThroughUi(page, member) {
  await page.goto(`${BASE}/connexion`);
  await page.getByLabel("Adresse e-mail").fill(member.email);
  await page.getByLabel("Mot de passe").fill(PASSWORD);
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.getByRole("button", { name: "Se déconnecter" }).waitFor();
}

/** Clicks `refresh` until `target` shows: the engine and the consumers work asynchronously. */
async function until(target, refresh) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    if (await target.isVisible()) return;
    if (Date.now() > deadline) throw new Error(`not shown in time: ${target}`);
    await refresh();
    await target.waitFor({ timeout: POLL_MS * 4 }).catch(() => undefined);
  }
}

/**
 * The API's side of the same wait, and the one poll of the journeys (as tests/support/wait.hpp is
 * the C++ tests'): what nobody signals (an answer that changes) is checked until `condition`
 * (async, truthy when met) holds, the pauses between checks doubling from 1 ms up to POLL_MS, so
 * that a condition met soon is seen soon; past `timeoutMs` it throws `failure()`.
 */
function pollUntil(condition, failure, timeoutMs = WAIT_MS) {
  return poll(condition, failure, timeoutMs, POLL_MS);
}

afterEach(() => {
  const seen = incidents.splice(0);
  assert.deepEqual(seen, [], "no CSP violation, dialog or uncaught error in the pages");
});

// ------------------------------------------------------------------------------ set-up
before(async () => {
  mkdirSync(SCREENS, { recursive: true });
  // The journeys' own network and ressourcerie, made by the administrator: on a stack that other
  // tests use (script/test's), a site picked among theirs may belong to a community whose rules
  // (membership approval, policy) they changed.
  const admin = await api("POST", "/v1/auth/login", { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
  world.adminToken = admin.token;
  const community = await api("POST", "/v1/communities", { name: `Essai web ${RUN}`, policy: {} }, admin.token);
  world.site = await api(
    "POST",
    "/v1/sites",
    {
      community_id: community.id,
      name: "Ressourcerie de Fives",
      kind: "ressourcerie",
      location: { lat: 50.6297, lon: 3.0917 },
      address: "2 rue Pierre-Legrand, 59800 Lille",
    },
    admin.token,
  );
  assert.ok(world.site.id && world.site.community_id === community.id, "the journeys' site");
  browser = await startChromium();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  if (chromiumProcess && chromiumProcess.exitCode === null) {
    const exited = new Promise((resolve) => chromiumProcess.once("exit", resolve));
    chromiumProcess.kill();
    await exited;
  }
  // The profile is scratch: a file chromium's last processes still flush must not fail the run.
  const removed = () => {
    try {
      rmSync(profileDir, { recursive: true, force: true });
      return true;
    } catch {
      return false;
    }
  };
  if (profileDir) await pollUntil(async () => removed(), () => "", 20 * POLL_MS).catch(() => undefined);
  console.log("axe-core:", JSON.stringify(axeReport));
});

// ------------------------------------------------------------------------------ scenarios
test("the gateway sends the browser's protections with pages, files, API answers and errors", async () => {
  const index = await (await fetch(`${BASE}/`)).text();
  const script = /<script[^>]+src="([^"]+)"/.exec(index)?.[1];
  assert.ok(script, "the page loads its script from a file");
  const paths = ["/", "/connexion", script, "/v1/categories", "/v1/me", "/v1/pas-de-route", "/healthz"];
  for (const path of paths) {
    const response = await fetch(BASE + path);
    const csp = response.headers.get("content-security-policy") ?? "";
    const where = `${path} (${response.status})`;
    assert.match(csp, /default-src 'self'/, `CSP on ${where}`);
    assert.match(csp, /script-src 'self'(;|$)/, `no inline script allowed on ${where}`);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, `nothing unsafe on ${where}`);
    for (const directive of ["frame-ancestors 'none'", "base-uri 'self'", "form-action 'self'", "object-src 'none'"]) {
      assert.ok(csp.includes(directive), `${directive} on ${where}`);
    }
    assert.equal(response.headers.get("x-content-type-options"), "nosniff", `nosniff on ${where}`);
    assert.equal(response.headers.get("referrer-policy"), "same-origin", `Referrer-Policy on ${where}`);
    // Plain HTTP here: HSTS is for answers over TLS only.
    assert.equal(response.headers.get("strict-transport-security"), null, `no HSTS over plain HTTP on ${where}`);
    await response.arrayBuffer();
  }
  assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/.test(index), "no inline script in the page");
  assert.ok(!/\sstyle=/.test(index), "no inline style in the page");
});

test("a new member signs up, posts a request near an existing offer and sees the match", async () => {
  world.offerOwner = await registerViaApi("offrante");
  const offerTitle = `Perceuse à donner ${RUN}`;
  await api(
    "POST",
    "/v1/offers",
    { kind: "good", mode: "give", category: "perceuses", title: offerTitle, site_id: world.site.id, price_minutes: 30 },
    world.offerOwner.token,
  );
  world.offerTitle = offerTitle;

  const page = await newPage();
  await page.goto(`${BASE}/inscription`);
  await capture(page, "inscription");
  const requester = { email: `demandeur.${RUN}@essai.maillon.local`, display_name: `Demandeur ${RUN}` };
  await page.getByLabel("Votre nom ou prénom").fill(requester.display_name);
  await page.getByLabel("Adresse e-mail").fill(requester.email);
  await page.getByLabel("Mot de passe").fill(PASSWORD);
  await page.getByLabel("Votre lieu de rattachement").selectOption(world.site.id);
  await page.getByRole("button", { name: "Créer mon compte" }).click();
  await page.getByRole("heading", { name: `Bonjour ${requester.display_name}` }).waitFor();
  await assertCookieSession(page);
  world.requester = { ...requester, page };

  await page.getByRole("link", { name: "Publier" }).click();
  await page.getByRole("heading", { name: "Publier une annonce" }).waitFor();
  await capture(page, "publier");
  await page.getByLabel("une demande (je cherche)").check();
  await page.getByLabel("Catégorie").selectOption("perceuses");
  await page.getByLabel("Titre").fill(`Cherche une perceuse ${RUN}`);
  await page.getByRole("button", { name: "Publier", exact: true }).click();
  await page.getByRole("heading", { name: "Annonce publiée" }).waitFor();
  await page.getByRole("button", { name: "Voir mes correspondances" }).click();

  const match = page.getByRole("list", { name: "Correspondances" }).getByRole("heading", { name: offerTitle });
  await until(match, () => page.getByRole("button", { name: "Actualiser" }).click());
  await capture(page, "accueil");
});

test("two members complete an exchange through the UI and see their credits move", async () => {
  assert.ok(world.requester, "needs the first scenario's members");
  const page = world.requester.page;
  // The page's session cannot be read; the API calls of this test use a session of their own.
  const own = await api("POST", "/v1/auth/login", { email: world.requester.email, password: PASSWORD });
  Object.assign(world.requester, { id: await memberIdOf(page), token: own.token });
  assert.equal(world.requester.id, own.member.id);
  const minutes = 30;
  const before = { owner: await balance(world.offerOwner), requester: await balance(world.requester) };

  // The exchange service hears of the listing and of the members from events, a moment after
  // they are made: a proposal sent before it has heard is refused in words; the page is then
  // loaded again (no refusal left on it) and the proposal made anew.
  const proposed = page.getByTestId("etat-echange").filter({ hasText: "Proposé" });
  const refusal = page.locator("form.inline-form").getByRole("alert");
  for (const deadline = Date.now() + WAIT_MS; ; ) {
    await page
      .getByRole("list", { name: "Correspondances" })
      .getByRole("button", { name: `Proposer un échange : ${world.offerTitle}` })
      .click();
    await page.getByLabel("Crédits de temps (minutes)").fill(String(minutes));
    await page.getByLabel("Message (facultatif)").fill("Bonjour, je peux passer samedi.");
    await page.getByRole("button", { name: "Envoyer la proposition" }).click();
    await proposed.or(refusal).first().waitFor();
    if (await proposed.isVisible()) break;
    if (Date.now() > deadline) throw new Error(`proposal refused: ${await refusal.textContent()}`);
    await page.reload();
  }
  const exchangeUrl = page.url();
  await capture(page, "echange");

  const owner = await newPage();
  await loginThroughUi(owner, world.offerOwner);
  await owner.getByRole("link", { name: "Échanges" }).click();
  await owner.getByRole("heading", { name: "Mes échanges" }).waitFor();
  await capture(owner, "echanges");
  await owner.getByRole("link", { name: `Échange avec ${world.requester.display_name}` }).click();
  await owner.getByRole("button", { name: "Accepter" }).click();
  await owner.getByTestId("etat-echange").filter({ hasText: /^Accepté$/ }).waitFor();
  // The requester's page, untouched since the proposal, hears of it live (the notifications
  // stream, opened with the session cookie: no token in its URL).
  await page.getByRole("link", { name: /^Notifications \(\d+\)$/ }).waitFor();
  await owner.getByRole("button", { name: "Confirmer que l’échange a eu lieu" }).click();
  await owner.getByText("Vous avez confirmé").waitFor();

  await page.goto(exchangeUrl);
  await page.getByRole("button", { name: "Confirmer que l’échange a eu lieu" }).click();
  await page.getByTestId("etat-echange").filter({ hasText: "Terminé" }).waitFor();

  await page.getByRole("link", { name: "Mes crédits" }).click();
  await page.getByTestId("solde").filter({ hasText: formatMinutes(before.requester - minutes) }).waitFor();
  await capture(page, "credits");
  await owner.getByRole("link", { name: "Mes crédits" }).click();
  await owner.getByTestId("solde").filter({ hasText: formatMinutes(before.owner + minutes) }).waitFor();

  await owner.getByRole("link", { name: /^Notifications/ }).click();
  await owner.getByRole("heading", { name: "Notifications" }).waitFor();
  await capture(owner, "notifications");
  await owner.getByRole("link", { name: "Mes annonces" }).click();
  await owner.getByRole("heading", { name: "Mes offres" }).waitFor();
  await capture(owner, "annonces");
  await owner.context().close();
});

test("staff take in an object, a resident reserves it on the kiosk, staff hand it out", async () => {
  assert.ok(world.requester?.id, "needs the first scenario's resident");
  const admin = await api("POST", "/v1/auth/login", { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
  world.staff = await registerViaApi("accueil");
  await api("POST", `/v1/sites/${world.site.id}/staff`, { member_id: world.staff.id }, admin.token);
  const title = `Marteau ${RUN}`;

  const desk = await newPage();
  await loginThroughUi(desk, world.staff);
  await desk.getByRole("link", { name: "Conciergerie" }).click();
  await desk.getByLabel("Lieu", { exact: true }).selectOption(world.site.id);
  await desk.getByRole("heading", { name: "Réception d’un objet" }).waitFor();
  await desk.getByLabel("Catégorie de l’objet").selectOption("outillage-a-main");
  await desk.getByLabel("Nom de l’objet").fill(title);
  await desk.getByLabel("État", { exact: true }).selectOption("good");
  // A weight that is no number: the field's error speaks in kilograms, as the field does.
  await desk.getByLabel("Poids (kg)").fill("beaucoup");
  await desk.getByRole("button", { name: "Enregistrer l’objet" }).click();
  await desk.getByText("Indiquez le poids en kilogrammes", { exact: false }).waitFor();
  await desk.getByLabel("Poids (kg)").fill("2,5");
  await desk.getByRole("button", { name: "Enregistrer l’objet" }).click();
  await desk.getByText(`« ${title} » est enregistré et disponible.`).waitFor();
  await capture(desk, "conciergerie");

  const kiosk = await newPage();
  await kiosk.goto(`${BASE}/kiosk?site=${world.site.id}`);
  await kiosk.getByRole("button", { name: `Réserver : ${title}` }).click();
  await capture(kiosk, "borne");
  const form = kiosk.getByRole("form", { name: `Réserver ${title}` });
  await form.getByLabel("Adresse e-mail").fill(world.requester.email);
  await form.getByLabel("Mot de passe").fill(PASSWORD);
  await form.getByRole("button", { name: "Confirmer la réservation" }).click();
  await kiosk.getByText(`« ${title} » est réservé pour vous`).waitFor();
  const kept = (await kiosk.context().cookies(BASE)).map((c) => c.name);
  assert.deepEqual(kept, [], "the shared tablet keeps no session of the resident");
  await kiosk.context().close();

  // Staff find the resident by name and act for them: the pages speak of that member.
  await desk.getByLabel("Nom, e-mail, téléphone ou numéro de membre").fill(world.requester.display_name);
  await desk.getByRole("button", { name: "Chercher", exact: true }).click();
  await desk.getByRole("button", { name: `Agir pour ${world.requester.display_name}` }).click();
  await desk.getByRole("region", { name: "Action pour un membre" }).waitFor();
  await desk.getByRole("link", { name: "Mes crédits" }).click();
  await desk.getByText(`Numéro de membre de ${world.requester.display_name}`).waitFor();
  assert.equal(await desk.getByText("Votre numéro de membre").count(), 0, "staff acting for a member do not read “your number”");
  await capture(desk, "credits-pour-un-membre");
  await desk.getByRole("button", { name: "Arrêter d’agir pour ce membre" }).click();
  await desk.getByRole("link", { name: "Conciergerie" }).click();

  const handOut = desk.getByRole("region", { name: "Objets à remettre" }).getByRole("button", { name: `Remettre : ${title}` });
  await until(handOut, () => desk.getByRole("button", { name: "Actualiser" }).click());
  await handOut.click();
  await handOut.waitFor({ state: "detached" });
  const collected = await api("GET", `/v1/sites/${world.site.id}/items?status=collected&limit=100`);
  assert.ok(collected.items.some((i) => i.title === title), "the object is recorded as handed out");
  await desk.context().close();
});

test("the figures page shows the kilograms reused", async () => {
  const page = await newPage();
  await page.goto(`${BASE}/chiffres`);
  // The page loads the figures again once the network is picked: read until they arrive.
  const deadline = Date.now() + 15000;
  let value = "";
  let kg = 0;
  while (Date.now() < deadline) {
    const picker = page.getByLabel("Réseau");
    if (await picker.count()) await picker.selectOption(world.site.community_id);
    await page.getByText("Kilogrammes réemployés", { exact: true }).first().waitFor();
    value = (await page.getByRole("definition").filter({ hasText: /kg$/ }).first().textContent()) ?? "";
    kg = Number(value.replace(/[^\d,]/g, "").replace(",", "."));
    if (kg >= 2.5) break;
    // The depot's figures follow its events: ask the page again (its reload is the pace).
    await page.reload();
  }
  assert.ok(kg >= 2.5, `kilograms reused shown (${value}) include the object handed out`);
  assert.ok(await page.getByRole("link", { name: /Télécharger les données \(CSV/ }).isVisible());
  await capture(page, "chiffres");
  await page.context().close();
  await world.requester?.page.context().close();
});

test("the login page passes the accessibility check", async () => {
  const page = await newPage();
  await page.goto(`${BASE}/connexion`);
  await page.getByRole("heading", { name: "Se connecter" }).waitFor();
  await capture(page, "connexion");
  await page.context().close();
});

/** Opens, on the map, the popup of the marker whose popup reads `text`; returns its content. */
async function popupOf(page, text) {
  const markers = page.locator(".leaflet-overlay-pane path.leaflet-interactive");
  const content = page.locator(".leaflet-popup-content");
  const count = await markers.count();
  // Markers may sit on one another: each is clicked where it is, by an event sent to it.
  for (let i = 0; i < count; i++) {
    await markers.nth(i).dispatchEvent("click");
    if ((await content.count()) === 1 && (await content.textContent()) === text) return content;
  }
  throw new Error(`no popup reads ${text} among ${count} markers`);
}

/** On the home page at the browser's position: the listing shows as words, in list and map. */
async function assertMarkupShownAsText(page, name) {
  const locate = () => page.getByRole("button", { name: "Utiliser ma position actuelle" }).click();
  const listed = page.getByRole("list", { name: "Annonces proches" }).getByRole("heading", { name: MARKUP_TITLE, exact: true });
  await page.goto(`${BASE}/`);
  await locate();
  await until(listed, async () => {
    await page.reload();
    await locate();
  });
  // The map draws itself once it comes near the screen.
  await page.getByRole("region", { name: "Carte des annonces proches" }).scrollIntoViewIfNeeded();
  await page.locator(".leaflet-overlay-pane path.leaflet-interactive").first().waitFor();
  const popup = await popupOf(page, MARKUP_TITLE);
  assert.equal(await popup.locator("img").count(), 0, "the popup holds the title as text, no element");
  assert.equal(await page.locator('img[src="x"]').count(), 0, "no element made of the title anywhere in the page");
  await capture(page, name);
}

test("a listing titled with markup shows as text in the list and the map popup, on a phone and a desktop", async () => {
  // A spot of its own, a few kilometres from the site, so this run's listing is the nearest.
  const spot = { lat: world.site.location.lat + 0.02 + Math.random() * 0.01, lon: world.site.location.lon + 0.01 };
  const author = await registerViaApi("balise");
  const phone = await newPage({ phone: true, at: spot });
  await loginThroughUi(phone, author);
  await phone.getByRole("link", { name: "Publier" }).click();
  await phone.getByLabel("Catégorie").selectOption("perceuses");
  await phone.getByLabel("Titre").fill(MARKUP_TITLE);
  await phone.getByRole("button", { name: "Utiliser ma position actuelle" }).click();
  await phone.getByText("Position enregistrée pour cette annonce.").waitFor();
  await phone.getByRole("button", { name: "Publier", exact: true }).click();
  await phone.getByText(`« ${MARKUP_TITLE} » est en ligne.`).waitFor();
  await phone.getByRole("link", { name: "Mes annonces" }).click();
  await phone.getByRole("heading", { name: MARKUP_TITLE, exact: true }).waitFor();
  await capture(phone, "annonces-telephone");
  await phone.context().close();

  const viewer = await registerViaApi("voisine");
  const desktop = await newPage({ at: spot });
  await loginThroughUi(desktop, viewer);
  await assertMarkupShownAsText(desktop, "carte");
  await desktop.context().close();
  const mobile = await newPage({ phone: true, at: spot });
  await loginThroughUi(mobile, viewer);
  await assertMarkupShownAsText(mobile, "carte-telephone");
  await mobile.context().close();
});

test("a cookie session: kept across a reload, refused without the CSRF token, ended by signing out", async () => {
  const member = await registerViaApi("cookie");
  const page = await newPage({ phone: true });
  await loginThroughUi(page, member);
  await assertCookieSession(page);
  await page.reload();
  await page.getByRole("button", { name: "Se déconnecter" }).waitFor();

  // A change sent with the cookie but without the CSRF token, as a forged request would be.
  const title = `Sans jeton ${RUN}`;
  const status = await page.evaluate(async (body) => {
    const response = await fetch("/v1/offers", { method: "POST", headers: { "Content-Type": "application/json" }, body });
    return response.status;
  }, JSON.stringify({ kind: "good", mode: "give", category: "perceuses", title, site_id: world.site.id }));
  assert.ok(status === 401 || status === 403, `an unsafe call by cookie without X-CSRF-Token is refused (got ${status})`);
  const mine = await api("GET", `/v1/offers?member_id=${member.id}&limit=100`, undefined, member.token);
  assert.ok(!mine.items.some((o) => o.title === title), "and changed nothing");

  await page.getByRole("button", { name: "Se déconnecter" }).click();
  await page.getByRole("heading", { name: "Se connecter" }).waitFor();
  const left = (await page.context().cookies(BASE)).filter((c) => c.name === "maillon_session" && c.value);
  assert.deepEqual(left, [], "signing out clears the session cookie");
  await page.goto(`${BASE}/credits`);
  await page.getByRole("heading", { name: "Se connecter" }).waitFor();
  await page.context().close();
});

// ------------------------------------------------------------------------------ issue #20
/** A fresh pair: an owner with an offer at the test site, and a member who proposed on it. */
async function proposedExchange(label, message) {
  const owner = await registerViaApi(`${label}-offre`);
  const proposer = await registerViaApi(`${label}-demande`);
  const title = `Scie sauteuse ${label} ${RUN}`;
  const offer = await api(
    "POST",
    "/v1/offers",
    { kind: "good", mode: "give", category: "perceuses", title, description: "Avec deux lames neuves.", site_id: world.site.id, price_minutes: 20 },
    owner.token,
  );
  const scheduled_at = new Date(Date.now() + 3 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, "Z");
  // The exchange service learns of the offer from its event, a moment after the 201.
  const body = { offer_id: offer.id, minutes: 20, message, site_id: world.site.id, scheduled_at };
  let exchange;
  for (const deadline = Date.now() + WAIT_MS; !exchange; ) {
    try {
      exchange = await api("POST", "/v1/exchanges", body, proposer.token);
    } catch (error) {
      // The exchange service hears of the offer, and of the proposer's membership, from events.
      if (!/unknown-listing|membership-pending/.test(String(error)) || Date.now() > deadline) throw error;
      await api("GET", `/v1/offers/${offer.id}`, undefined, proposer.token); // a round trip between tries
    }
  }
  return { owner, proposer, offer: { ...offer, title }, exchange };
}

test("live: the other party's message shows on the open exchange page, and the badge counts it, within 2 s", async () => {
  const proposal = `Je passe samedi matin ${RUN}`;
  const { owner, proposer, offer, exchange } = await proposedExchange("direct", proposal);

  // The owner, on a phone, opens the exchange from the list: its listing, place, date and
  // the proposal's message are there.
  const phone = await newPage({ phone: true });
  await loginThroughUi(phone, owner);
  await phone.getByRole("link", { name: "Échanges" }).click();
  const card = phone.getByRole("list", { name: "Échanges" }).getByRole("listitem").filter({ hasText: offer.title });
  await card.getByText(world.site.name, { exact: false }).waitFor();
  await card.getByRole("link", { name: `Échange avec ${proposer.display_name}` }).click();
  await phone.getByText(proposal).waitFor();
  await phone.getByRole("link", { name: offer.title }).waitFor();
  await phone.locator("dd", { hasText: world.site.name }).waitFor();
  await capture(phone, "echange-detail");
  const before = await badgeOf(phone);

  // The proposer, on a desktop, writes on the same exchange.
  const desktop = await newPage();
  await loginThroughUi(desktop, proposer);
  await desktop.goto(`${BASE}/echanges/${exchange.id}`);
  const text = `Avez-vous encore les lames ? ${RUN}`;
  await desktop.getByLabel("Votre message").fill(text);
  await desktop.getByRole("button", { name: "Envoyer", exact: true }).click();
  await desktop.getByText(text).waitFor();
  const sent = Date.now();
  await phone.getByText(text).waitFor({ timeout: 2000 });
  await phone.getByRole("link", { name: `Notifications (${before + 1})` }).waitFor({ timeout: Math.max(1, 2000 - (Date.now() - sent)) });

  // Cancelling asks first; "Non" leaves the exchange as it was.
  await desktop.getByRole("button", { name: "Annuler l’échange" }).click();
  await desktop.getByRole("group", { name: /^Annuler cet échange/ }).waitFor();
  await desktop.getByRole("button", { name: "Non, revenir" }).click();
  assert.equal(await desktop.getByTestId("etat-echange").textContent(), "Proposé");
  await desktop.getByRole("button", { name: "Annuler l’échange" }).click();
  await desktop.getByRole("button", { name: "Oui, annuler l’échange" }).click();
  await desktop.getByTestId("etat-echange").filter({ hasText: "Annulé" }).waitFor();
  // The owner's open page learns it too, without a reload.
  await phone.getByTestId("etat-echange").filter({ hasText: "Annulé" }).waitFor();
  await phone.context().close();
  await desktop.context().close();
});

test("wording: a wrong password, a missing exchange", async () => {
  const member = await registerViaApi("mots");
  const page = await newPage({ phone: true });
  await page.goto(`${BASE}/connexion`);
  await page.getByLabel("Adresse e-mail").fill(member.email);
  await page.getByLabel("Mot de passe").fill("pas-le-bon-mot-de-passe");
  await page.getByRole("button", { name: "Se connecter" }).click();
  const alert = page.getByRole("alert");
  await alert.waitFor();
  assert.match((await alert.textContent()) ?? "", /mot de passe incorrect/i);
  assert.doesNotMatch((await alert.textContent()) ?? "", /session/i);
  await loginThroughUi(page, member);
  await page.goto(`${BASE}/echanges/00000000-0000-4000-8000-000000000000`);
  await page.getByRole("alert").filter({ hasText: "Échange introuvable." }).waitFor();
  await page.context().close();
});

test("search with filters finds a listing; its page shows description, owner and place", async () => {
  const owner = await registerViaApi("machine");
  const title = `Machine à coudre ${RUN}`;
  await api(
    "POST",
    "/v1/offers",
    { kind: "good", mode: "lend", category: "perceuses", title, description: `Révisée cet hiver, avec son pédalier ${RUN}.`, site_id: world.site.id },
    owner.token,
  );
  const seeker = await registerViaApi("chercheuse");
  const page = await newPage();
  await loginThroughUi(page, seeker);
  await page.getByRole("link", { name: "Chercher" }).click();
  await page.getByLabel("Mots-clés").fill(`machine ${RUN}`);
  await page.getByLabel("Catégorie").selectOption("perceuses");
  await page.getByLabel("Type d’échange").selectOption("lend");
  await page.getByLabel("Distance").selectOption("10");
  const found = page.getByRole("link", { name: title });
  await until(found, () => page.getByRole("button", { name: "Chercher", exact: true }).click());
  // Another mode: the same words find nothing.
  await page.getByLabel("Type d’échange").selectOption("give");
  await page.getByRole("button", { name: "Chercher", exact: true }).click();
  await page.getByText("Aucune annonce ne correspond.", { exact: false }).waitFor();
  await page.getByLabel("Type d’échange").selectOption("lend");
  await page.getByRole("button", { name: "Chercher", exact: true }).click();
  await found.waitFor();
  await capture(page, "recherche");
  await found.click();
  await page.getByRole("heading", { name: title, level: 1 }).waitFor();
  await page.getByText(`Révisée cet hiver, avec son pédalier ${RUN}.`).waitFor();
  await page.locator("dd", { hasText: owner.display_name }).waitFor();
  await page.locator("dd", { hasText: world.site.name }).waitFor();
  await capture(page, "annonce");
  await page.context().close();
});

test("profile: the member downloads their data, then erases their account with password and confirmation", async () => {
  const member = await registerViaApi("rgpd");
  const page = await newPage({ phone: true });
  await loginThroughUi(page, member);
  await page.getByRole("link", { name: "Profil" }).click();
  await page.getByRole("heading", { name: "Mon profil" }).waitFor();
  await capture(page, "profil");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Télécharger mes données" }).click()]);
  const file = await download.path();
  assert.ok(readFileSync(file, "utf8").includes(member.email), "the export holds the member's own data");

  await page.getByLabel("Votre mot de passe, pour confirmer").fill("pas-le-bon-mot-de-passe");
  await page.getByRole("button", { name: "Supprimer mon compte" }).click();
  await page.getByRole("button", { name: "Oui, supprimer mon compte" }).click();
  await page.getByRole("alert").filter({ hasText: "Mot de passe incorrect" }).waitFor();
  await page.getByLabel("Votre mot de passe, pour confirmer").fill(PASSWORD);
  await page.getByRole("button", { name: "Supprimer mon compte" }).click();
  await page.getByRole("button", { name: "Oui, supprimer mon compte" }).click();
  await page.getByText("Votre compte est supprimé.").waitFor();
  const again = await fetch(`${BASE}/v1/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email: member.email, password: PASSWORD }),
  });
  assert.equal(again.status, 401, "the erased account cannot sign in");
  await page.context().close();
});

test("administration: policy, opening hours in the contract's shape, staff", async () => {
  const admin = { email: ADMIN_EMAIL };
  const adminApi = await api("POST", "/v1/auth/login", { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
  const community = await api("GET", `/v1/communities/${world.site.community_id}`, undefined, adminApi.token);
  const page = await newPage();
  await page.goto(`${BASE}/connexion`);
  await page.getByLabel("Adresse e-mail").fill(admin.email);
  await page.getByLabel("Mot de passe").fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.getByRole("link", { name: "Administration" }).click();
  await page.getByRole("heading", { name: "Administration" }).waitFor();
  // The networks load after the heading: once a network's rules show, the picker is there too
  // (when the administrator runs more than one), so its absence means one network only.
  await page.getByRole("form", { name: /^Règles de / }).first().waitFor();
  const picker = page.getByLabel("Réseau à administrer");
  if (await picker.count()) await picker.selectOption(world.site.community_id);
  const rules = page.getByRole("form", { name: `Règles de ${community.name}` });
  const days = String((community.policy.proposal_days ?? 7) + 1);
  await rules.getByLabel("Proposition expirée après (jours)").fill(days);
  await rules.getByRole("button", { name: "Enregistrer les règles" }).click();
  await rules.getByText("Règles enregistrées.").waitFor();
  const changed = await api("GET", `/v1/communities/${world.site.community_id}`, undefined, adminApi.token);
  assert.equal(String(changed.policy.proposal_days), days);
  await api("PATCH", `/v1/communities/${world.site.community_id}`, { policy: { proposal_days: community.policy.proposal_days } }, adminApi.token);

  await page.getByRole("button", { name: `Modifier ${world.site.name}` }).first().click();
  const hours = page.getByRole("form", { name: `Horaires de ${world.site.name}` }).first();
  await hours.getByLabel("Mardi").fill("le matin");
  await hours.getByRole("button", { name: "Enregistrer les horaires" }).click();
  await hours.getByText("Écrivez les horaires ainsi", { exact: false }).waitFor();
  await hours.getByLabel("Lundi").fill("9h00-12h30, 14:00-18:00");
  await hours.getByLabel("Mardi").fill("");
  await hours.getByLabel("Jours de fermeture exceptionnelle").fill("2026-12-25");
  const [request] = await Promise.all([
    page.waitForRequest((r) => r.method() === "PATCH" && r.url().endsWith(`/v1/sites/${world.site.id}`)),
    hours.getByRole("button", { name: "Enregistrer les horaires" }).click(),
  ]);
  assert.deepEqual(JSON.parse(request.postData() ?? "{}").opening_hours, {
    weekly: { mon: [["09:00", "12:30"], ["14:00", "18:00"]] },
    exceptions: [{ date: "2026-12-25", closed: true }],
  });
  // The members service takes this shape once opening hours land (#19); until then it refuses it, in words.
  await hours.getByText(/Horaires enregistrés\.|invalides/).waitFor();
  await capture(page, "administration");
  await page.context().close();
});

test("installable: the app passes Chromium's install checks and shows the member's exchanges offline", async () => {
  const { proposer, offer } = await proposedExchange("horsligne", `Hors ligne ${RUN}`);
  const page = await newPage({ phone: true, installable: true });
  const cdp = await page.context().newCDPSession(page);
  await loginThroughUi(page, proposer);
  await page.waitForFunction(async () => !!(await navigator.serviceWorker.ready).active);
  const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
  assert.deepEqual(installabilityErrors, [], "Chromium can install the app");
  // Read once with the network (the service worker controls the page from its first reload).
  await page.goto(`${BASE}/echanges`);
  await page.waitForFunction(() => !!navigator.serviceWorker.controller);
  const card = page.getByRole("list", { name: "Échanges" }).getByRole("listitem").filter({ hasText: offer.title });
  await card.waitFor();
  await page.context().setOffline(true);
  await page.reload();
  await card.waitFor();
  await page.getByText("Hors ligne", { exact: false }).first().waitFor();
  await capture(page, "hors-ligne");
  await page.context().setOffline(false);
  await page.context().clearCookies();
  await page.close();
});

test("account links: a spent verification link and a reset link say so in words", async () => {
  const page = await newPage({ phone: true });
  await page.goto(`${BASE}/verifier?token=jeton-perime`);
  await page.getByText("Ce lien n’est plus valable", { exact: false }).waitFor();
  assert.ok(!page.url().includes("jeton"), "the token leaves the address bar");
  await capture(page, "verifier");
  await page.goto(`${BASE}/reinitialiser?token=jeton-perime`);
  await page.getByLabel("Nouveau mot de passe").fill("un-nouveau-mot-de-passe-2026");
  await page.getByRole("button", { name: "Enregistrer le mot de passe" }).click();
  await page.getByRole("alert").waitFor();
  await capture(page, "reinitialiser");
  await page.goto(`${BASE}/mot-de-passe-oublie`);
  await page.getByLabel("Adresse e-mail").fill(`personne.${RUN}@essai.maillon.local`);
  await page.getByRole("button", { name: "Recevoir un lien" }).click();
  await page.getByText("Si un compte existe à cette adresse", { exact: false }).waitFor();
  await page.context().close();
});

test("photos: a member posts an offer with a photo; the listing's page shows it", async (t) => {
  const author = await registerViaApi("photo");
  // The media service (#19) may not run behind this gateway yet: then there is nothing to show.
  const probe = await fetch(`${BASE}/v1/photos`, { method: "POST", headers: { Authorization: `Bearer ${author.token}` } });
  await probe.arrayBuffer();
  if (probe.status === 404 || probe.status === 503) return t.skip(`POST /v1/photos answers ${probe.status}`);
  // Nor may the offers service take photo ids yet (#19 adds them to listings).
  const form = new FormData();
  form.append("file", new Blob([readFileSync(new URL("../../web/public/icon-192.png", import.meta.url))], { type: "image/png" }), "icone.png");
  const uploaded = await (await fetch(`${BASE}/v1/photos`, { method: "POST", headers: { Authorization: `Bearer ${author.token}` }, body: form })).json();
  const trial = await fetch(`${BASE}/v1/offers`, {
    method: "POST",
    headers: { Authorization: `Bearer ${author.token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ kind: "good", mode: "give", category: "perceuses", title: `Essai photo ${RUN}`, site_id: world.site.id, photos: [uploaded.id] }),
  });
  const refusal = await trial.text();
  if (trial.status === 400 && /photos/.test(refusal)) return t.skip("the offers service does not take photo ids yet");
  const page = await newPage({ phone: true });
  await loginThroughUi(page, author);
  await page.getByRole("link", { name: "Publier" }).click();
  await page.getByLabel("Catégorie").selectOption("perceuses");
  const title = `Ponceuse en photo ${RUN}`;
  await page.getByLabel("Titre").fill(title);
  await page.getByLabel("Ajouter des photos").setInputFiles(new URL("../../web/public/icon-512.png", import.meta.url).pathname);
  await page.getByRole("list", { name: "Photos ajoutées" }).getByRole("img", { name: "Photo 1" }).waitFor();
  await page.getByRole("button", { name: "Publier", exact: true }).click();
  await page.getByRole("link", { name: "Voir l’annonce" }).click();
  const photo = page.getByRole("img", { name: `Photo 1 de ${title}` });
  await photo.waitFor();
  await page.waitForFunction((alt) => [...document.images].some((i) => i.alt === alt && i.complete && i.naturalWidth > 0), `Photo 1 de ${title}`);
  await capture(page, "annonce-photo");
  await page.context().close();
});

// ------------------------------------------------------------------------------ issue #19's screens
const DAY_MS = 86_400_000;

/** A member made staff of the journeys' site by the administrator. */
async function staffMember(label) {
  const staff = await registerViaApi(label);
  await api("POST", `/v1/sites/${world.site.id}/staff`, { member_id: staff.id }, world.adminToken);
  return staff;
}

/** The local (Europe/Paris) calendar day `days` from now, as an <input type="date"> takes it. */
function parisDay(days = 0) {
  return new Date(Date.now() + days * DAY_MS).toLocaleDateString("sv-SE", { timeZone: "Europe/Paris" });
}

async function openDesk(page) {
  await page.getByRole("link", { name: "Conciergerie" }).click();
  await page.getByLabel("Lieu", { exact: true }).selectOption(world.site.id);
  await page.getByRole("heading", { name: `Aujourd’hui à ${world.site.name}` }).waitFor();
}

/** Retries `attempt` while the exchange service has not yet heard of a listing or a member. */
async function whileUnknown(attempt) {
  let result;
  let last;
  await pollUntil(
    async () => {
      try {
        result = await attempt();
        return true;
      } catch (error) {
        if (!/unknown-listing|membership-pending/.test(String(error))) throw error;
        last = error;
        return false;
      }
    },
    () => String(last),
  );
  return result;
}

async function exchangeState(member, id) {
  return (await api("GET", `/v1/exchanges/${id}`, undefined, member.token)).state;
}

async function stateBecomes(member, id, state) {
  let seen;
  await pollUntil(
    async () => (seen = await exchangeState(member, id)) === state,
    () => `exchange ${id} stays ${seen}, not ${state}`,
  );
}

test("desk: staff register a neighbour without e-mail, find them by phone and by number, and serve them by acting for them", async () => {
  const staff = await staffMember("guichet");
  const name = `Odette ${RUN}`;
  const phone = `07 ${String(Math.floor(Math.random() * 1e8)).padStart(8, "0").replace(/(\d\d)(?=\d)/g, "$1 ")}`;

  const desk = await newPage();
  await loginThroughUi(desk, staff);
  await openDesk(desk);
  const register = desk.getByRole("form", { name: "Inscrire une personne sans e-mail" });
  await register.getByRole("button", { name: "Inscrire" }).click();
  await register.getByText("Indiquez le nom ou le prénom de la personne.").waitFor();
  await register.getByLabel("Nom ou prénom").fill(name);
  await register.getByLabel("Téléphone (facultatif)").fill(phone);
  await register.getByRole("button", { name: "Inscrire" }).click();
  const number = (await desk.getByTestId("numero-inscrit").textContent())?.trim();
  assert.match(number ?? "", /^\d+$/, "the desk shows the new member's number");
  await capture(desk, "inscription-guichet");
  // Acting for them at once: their credits page speaks of them, by their number.
  await desk.getByRole("button", { name: `Agir pour ${name}` }).click();
  await desk.getByRole("region", { name: "Action pour un membre" }).getByText(name).waitFor();
  // Odette has an address after all: staff give it, the link goes to it.
  const address = desk.getByRole("form", { name: `Adresse e-mail de ${name}` });
  await address.getByLabel(`Adresse e-mail de ${name}`).fill(`odette.${RUN}@test.maillon`);
  await address.getByRole("button", { name: "Envoyer le lien" }).click();
  await address.getByText(`Un lien de confirmation a été envoyé à odette.${RUN}@test.maillon`).waitFor();
  await capture(desk, "adresse-guichet");
  await desk.getByRole("link", { name: "Mes crédits" }).click();
  await desk.getByText(`Numéro de membre de ${name}`).waitFor();
  await desk.getByText(number, { exact: true }).first().waitFor();
  await desk.getByRole("button", { name: "Arrêter d’agir pour ce membre" }).click();
  await desk.context().close();

  // On a phone, the next day's desk finds them by phone (a few digits), then by number.
  const phonePage = await newPage({ phone: true });
  await loginThroughUi(phonePage, staff);
  await openDesk(phonePage);
  const search = phonePage.getByLabel("Nom, e-mail, téléphone ou numéro de membre");
  const found = phonePage.getByRole("list", { name: "Membres trouvés" }).getByRole("button", { name: `Agir pour ${name}` });
  await search.fill(phone.replace(/\D/g, "").slice(-6));
  await phonePage.getByRole("button", { name: "Chercher", exact: true }).click();
  await found.waitFor();
  await search.fill(`personne-inconnue-${RUN}`);
  await phonePage.getByRole("button", { name: "Chercher", exact: true }).click();
  await phonePage.getByText("Aucun membre ne correspond.").waitFor();
  await search.fill(number);
  await phonePage.getByRole("button", { name: "Chercher", exact: true }).click();
  await found.waitFor();
  await capture(phonePage, "recherche-membre");
  await found.click();
  // Served by staff: a listing posted in their name.
  const title = `Cafetière d’Odette ${RUN}`;
  await phonePage.getByRole("link", { name: "Publier" }).click();
  await phonePage.getByLabel("Catégorie").selectOption("perceuses");
  await phonePage.getByLabel("Titre").fill(title);
  await phonePage.getByRole("button", { name: "Publier", exact: true }).click();
  await phonePage.getByText(`« ${title} » est en ligne.`).waitFor();
  const members = await api("GET", `/v1/members?q=${encodeURIComponent(number)}`, undefined, staff.token);
  const neighbour = members.items.find((m) => m.display_name === name);
  assert.ok(neighbour && neighbour.email === null, "the neighbour has no e-mail");
  const theirs = await api("GET", `/v1/offers?member_id=${neighbour.id}&limit=100`, undefined, staff.token);
  assert.ok(theirs.items.some((o) => o.title === title), "the listing is the neighbour's");
  await phonePage.context().close();
});

test("loans: a borrower asks for dates, the owner authorises, both confirm hand-over, renewal and return; the calendar and the iCal link", async () => {
  const owner = await registerViaApi("preteuse");
  const borrower = await registerViaApi("emprunteur");
  const title = `Perceuse à percussion ${RUN}`;
  const offer = await api(
    "POST",
    "/v1/offers",
    { kind: "good", mode: "lend", category: "perceuses", title, site_id: world.site.id, deposit_minutes: 30 },
    owner.token,
  );

  // The borrower, on a phone: the object's month is free; dates in the wrong order are refused in words.
  const phone = await newPage({ phone: true });
  await loginThroughUi(phone, borrower);
  await phone.goto(`${BASE}/annonces/offre/${offer.id}`);
  await phone.getByRole("heading", { name: title, level: 1 }).waitFor();
  await phone.getByTestId("calendrier-libre").waitFor();
  await phone.getByRole("table", { name: /^Réservations de/ }).waitFor();
  await capture(phone, "calendrier");
  const badge = phone.getByTestId("etat-echange");
  const refusal = phone.getByRole("form", { name: "Demander un prêt" }).getByRole("alert");
  for (const deadline = Date.now() + WAIT_MS; ; ) {
    await phone.getByRole("button", { name: "Demander à emprunter" }).click();
    const form = phone.getByRole("form", { name: "Demander un prêt" });
    await form.getByLabel("Je prends l’objet le").fill(parisDay(1));
    await form.getByLabel("Je le rends le").fill(parisDay(0));
    await form.getByRole("button", { name: "Envoyer la demande de prêt" }).click();
    await form.getByText("Le retour doit venir après le début du prêt.").waitFor();
    await form.getByLabel("Je le rends le").fill(parisDay(4));
    await form.getByLabel("Message (facultatif)").fill("Pour monter une étagère.");
    await form.getByRole("button", { name: "Envoyer la demande de prêt" }).click();
    await badge.or(refusal).first().waitFor();
    if (await badge.isVisible()) break;
    if (Date.now() > deadline) throw new Error(`loan refused: ${await refusal.textContent()}`);
    await phone.reload();
  }
  await badge.filter({ hasText: "Proposé" }).waitFor();
  const exchangeUrl = phone.url();
  const id = exchangeUrl.split("/").pop();
  await phone.getByTestId("dates-pret").waitFor();

  // The owner, on a desktop, authorises: the deposit is held, the loan accepted.
  const desktop = await newPage();
  await loginThroughUi(desktop, owner);
  await desktop.goto(exchangeUrl);
  await desktop.getByRole("button", { name: "Autoriser le prêt" }).click();
  await desktop.getByTestId("etat-echange").filter({ hasText: /^Accepté$/ }).waitFor();
  await desktop.locator("dd", { hasText: "30 min, réservée" }).waitFor();
  await capture(desktop, "pret-accepte");

  // Both confirm the hand-over.
  await phone.reload();
  await phone.getByRole("button", { name: "Confirmer la remise de l’objet" }).click();
  await phone.getByText("Vous avez confirmé la remise.", { exact: false }).waitFor();
  await desktop.reload();
  await desktop.getByRole("button", { name: "Confirmer la remise de l’objet" }).click();
  await desktop.getByTestId("etat-echange").filter({ hasText: "Objet remis" }).waitFor();

  // The borrower asks to keep it a week longer; the owner grants it.
  await phone.reload();
  await phone.getByRole("button", { name: "Demander une prolongation" }).click();
  await phone.getByText("Prolongation demandée jusqu’au", { exact: false }).first().waitFor();
  await capture(phone, "pret-prolongation");
  await desktop.reload();
  await desktop.getByRole("button", { name: /^Accepter la prolongation jusqu’au/ }).click();
  await desktop.locator("dd", { hasText: /^1 sur \d+$/ }).waitFor();
  const renewed = await api("GET", `/v1/exchanges/${id}`, undefined, owner.token);
  assert.equal(renewed.renewals, 1);

  // The object's calendar now shows the booking, in colour and in words.
  await phone.goto(`${BASE}/annonces/offre/${offer.id}`);
  await phone.getByRole("list", { name: "Réservations du mois" }).getByText("Réservé du", { exact: false }).first().waitFor();
  assert.ok((await phone.locator("td.cal-busy").count()) > 0, "busy days are marked");
  await capture(phone, "calendrier-reserve");

  // A neighbour queues for the object while it is lent, sees their place, and may leave (asked first).
  const waiting = await registerViaApi("patiente");
  const third = await newPage();
  await loginThroughUi(third, waiting);
  await third.goto(`${BASE}/annonces/offre/${offer.id}`);
  await third.getByRole("button", { name: "Rejoindre la file d’attente" }).click();
  await third.getByText("Vous êtes n° 1 dans la file.", { exact: false }).waitFor();
  await third.getByTestId("file-attente").filter({ hasText: "1 personne en attente." }).waitFor();
  await capture(third, "file-attente");
  await third.getByRole("button", { name: "Quitter la file d’attente" }).click();
  await third.getByRole("button", { name: "Oui, quitter la file" }).click();
  await third.getByTestId("file-attente").filter({ hasText: "Personne n’attend cet objet." }).waitFor();
  await third.context().close();

  // Both confirm the return: the loan is over.
  await phone.goto(exchangeUrl);
  await phone.getByRole("button", { name: "Confirmer le retour de l’objet" }).click();
  await phone.getByText("Vous avez confirmé le retour.", { exact: false }).waitFor();
  await desktop.reload();
  await desktop.getByRole("button", { name: "Confirmer le retour de l’objet" }).click();
  await desktop.getByTestId("etat-echange").filter({ hasText: "Terminé" }).waitFor();
  await desktop.context().close();

  // The borrower's calendar feed: a private address a calendar app reads without a session.
  await phone.getByRole("link", { name: "Échanges", exact: true }).click();
  await phone.getByRole("button", { name: "Obtenir le lien de mon agenda" }).click();
  const address = await phone.getByLabel("Adresse de l’agenda").inputValue();
  const feed = await fetch(address);
  const ics = await feed.text();
  assert.equal(feed.status, 200, ics);
  assert.ok(ics.includes("BEGIN:VCALENDAR\r\n") && ics.includes(id), "the feed holds the loan");
  await capture(phone, "agenda");
  // Changing the link asks first; the old address stops working.
  await phone.getByRole("button", { name: "Changer le lien" }).click();
  await phone.getByRole("button", { name: "Oui, changer le lien" }).click();
  await phone.waitForFunction((old) => document.querySelector("input[readonly]")?.value !== old, address);
  const revoked = await fetch(address);
  await revoked.arrayBuffer();
  assert.equal(revoked.status, 404, "the revoked address no longer answers");
  await phone.context().close();
});

test("desk: a loan between members handed over and returned at the desk; the label sheet; staff edit their site's hours", async () => {
  const staff = await staffMember("comptoir");
  const owner = await registerViaApi("outilleur");
  const borrower = await registerViaApi("bricoleuse");
  const title = `Scie circulaire ${RUN}`;
  const offer = await api("POST", "/v1/offers", { kind: "good", mode: "lend", category: "perceuses", title, site_id: world.site.id }, owner.token);
  // Taken at the desk today, due back in three days.
  const body = {
    offer_id: offer.id,
    site_id: world.site.id,
    starts_at: new Date(Date.now() + 60_000).toISOString().replace(/\.\d{3}Z$/, "Z"),
    due_at: new Date(Date.now() + 3 * DAY_MS).toISOString().replace(/\.\d{3}Z$/, "Z"),
  };
  const loan = await whileUnknown(() => api("POST", "/v1/exchanges", body, borrower.token));
  await api("POST", `/v1/exchanges/${loan.id}/accept`, undefined, owner.token);
  await stateBecomes(owner, loan.id, "accepted");

  const desk = await newPage({ phone: true });
  await loginThroughUi(desk, staff);
  await openDesk(desk);
  const today = desk.getByRole("region", { name: "Échanges prévus aujourd’hui" });
  const handOver = today.getByRole("button", { name: `Enregistrer la remise de l’objet, échange ${loan.id.slice(0, 8)}` });
  await until(handOver, () => desk.getByRole("button", { name: "Actualiser" }).click());
  await capture(desk, "guichet-prets");
  await handOver.click();
  await stateBecomes(owner, loan.id, "handed_over");

  // The return, from the loan's page, for both parties.
  await desk.goto(`${BASE}/echanges/${loan.id}`);
  await desk.getByRole("button", { name: "Enregistrer le retour (pour les deux)" }).click();
  await desk.getByTestId("etat-echange").filter({ hasText: "Terminé" }).waitFor();
  assert.equal(await exchangeState(borrower, loan.id), "completed");

  // An object of the objetothèque lent at the desk to the member staff act for, until a day
  // staff choose, then brought back.
  const tool = `Ponceuse de l’objetothèque ${RUN}`;
  await api("POST", `/v1/sites/${world.site.id}/items`, { category: "outillage-a-main", title: tool, condition: "good", weight_g: 1500, mode: "lend" }, staff.token);
  await desk.goto(`${BASE}/desk`);
  await desk.getByLabel("Nom, e-mail, téléphone ou numéro de membre").fill(borrower.display_name);
  await desk.getByRole("button", { name: "Chercher", exact: true }).click();
  await desk.getByRole("button", { name: `Agir pour ${borrower.display_name}` }).click();
  const available = desk.getByRole("region", { name: "Objets disponibles" }).getByRole("listitem").filter({ hasText: tool });
  await until(available, () => desk.getByRole("button", { name: "Actualiser" }).click());
  await available.getByLabel(`Retour de ${tool} prévu le`).fill(parisDay(0));
  await available.getByRole("button", { name: `Prêter : ${tool}` }).click();
  await available.getByText("Choisissez un jour de retour après aujourd’hui.").waitFor();
  await available.getByLabel(`Retour de ${tool} prévu le`).fill(parisDay(10));
  await available.getByRole("button", { name: `Prêter : ${tool}` }).click();
  const lent = desk.getByRole("region", { name: "Objets prêtés" }).getByRole("listitem").filter({ hasText: tool });
  await lent.getByText("retour prévu le", { exact: false }).waitFor();
  await capture(desk, "guichet-objetotheque");
  await lent.getByRole("button", { name: "Enregistrer le retour" }).click();
  await available.waitFor();
  const back = await api("GET", `/v1/sites/${world.site.id}/items?status=available&limit=100`);
  assert.ok(back.items.some((i) => i.title === tool), "the object is available again");
  await desk.getByRole("button", { name: "Arrêter d’agir pour ce membre" }).click();

  // The label sheet: a link to the site's PDF, opened with the staff member's session.
  await desk.getByRole("heading", { name: `Aujourd’hui à ${world.site.name}` }).waitFor();
  const labels = desk.getByRole("link", { name: /^Imprimer les étiquettes des objets/ });
  const href = await labels.getAttribute("href");
  assert.ok(href?.startsWith(`/v1/sites/${world.site.id}/labels.pdf`), `label sheet link: ${href}`);
  const sheet = await desk.evaluate(async (path) => {
    const response = await fetch(path);
    return { status: response.status, type: response.headers.get("content-type") };
  }, href);
  // The sheet itself is the depot's (issue 19, another part of the work): when it answers, it is a PDF.
  if (sheet.status === 200) assert.match(sheet.type ?? "", /application\/pdf/);
  else assert.ok([404, 501].includes(sheet.status), `labels.pdf answers ${sheet.status}`);

  // Staff edit their own site: opening hours in the contract's shape.
  await desk.getByRole("link", { name: "Administration" }).click();
  await desk.getByRole("button", { name: `Modifier ${world.site.name}` }).first().click();
  const hours = desk.getByRole("form", { name: `Horaires de ${world.site.name}` }).first();
  const before = (await api("GET", `/v1/sites/${world.site.id}`)).opening_hours?.exceptions ?? [];
  await hours.getByLabel("Mercredi").fill("10:00-12:00, 14:00-17:30");
  await hours.getByLabel("Jours aux horaires particuliers").fill("24 décembre au matin");
  await hours.getByRole("button", { name: "Enregistrer les horaires" }).click();
  await hours.getByText("Écrivez une date puis ses plages", { exact: false }).waitFor();
  await hours.getByLabel("Jours aux horaires particuliers").fill("2026-12-24 09:00-12:00");
  await hours.getByRole("button", { name: "Enregistrer les horaires" }).click();
  await hours.getByText("Horaires enregistrés.").waitFor();
  const site = await api("GET", `/v1/sites/${world.site.id}`);
  assert.deepEqual(site.opening_hours.weekly.wed, [["10:00", "12:00"], ["14:00", "17:30"]]);
  const special = site.opening_hours.exceptions.find((e) => e.date === "2026-12-24");
  assert.deepEqual(special?.hours, [["09:00", "12:00"]], JSON.stringify(site.opening_hours.exceptions));
  // The days closed before (the administration's journey) are kept.
  for (const e of before.filter((x) => x.closed)) assert.ok(site.opening_hours.exceptions.some((x) => x.date === e.date && x.closed), `${e.date} stays closed`);
  await capture(desk, "site-horaires");
  await desk.context().close();
});

test("photos: the owner adds and removes photos of a listing; the gallery shows each", async () => {
  const owner = await registerViaApi("galerie");
  const upload = async (file) => {
    const form = new FormData();
    form.append("file", new Blob([readFileSync(new URL(`../../web/public/${file}`, import.meta.url))], { type: "image/png" }), file);
    const response = await fetch(`${BASE}/v1/photos`, { method: "POST", headers: { Authorization: `Bearer ${owner.token}` }, body: form });
    const text = await response.text();
    assert.equal(response.status, 201, text);
    return JSON.parse(text);
  };
  const first = await upload("icon-192.png");
  const title = `Vélo cargo ${RUN}`;
  const offer = await api(
    "POST",
    "/v1/offers",
    { kind: "good", mode: "lend", category: "perceuses", title, site_id: world.site.id, photos: [first.id] },
    owner.token,
  );
  const page = await newPage();
  await loginThroughUi(page, owner);
  await page.goto(`${BASE}/annonces/offre/${offer.id}`);
  await page.getByRole("img", { name: `Photo 1 de ${title}` }).waitFor();
  await page.getByRole("button", { name: "Modifier les photos" }).click();
  await page.getByLabel("Ajouter des photos").setInputFiles(new URL("../../web/public/icon-512.png", import.meta.url).pathname);
  await page.getByRole("list", { name: "Photos ajoutées" }).getByRole("img", { name: "Photo 2" }).waitFor();
  await page.getByRole("button", { name: "Enregistrer les photos" }).click();
  await page.getByText("Photos enregistrées.").waitFor();
  await page.getByRole("button", { name: "Voir la photo 2 sur 2" }).click();
  await page.getByRole("img", { name: `Photo 2 de ${title}` }).waitFor();
  await page.waitForFunction((alt) => [...document.images].some((i) => i.alt === alt && i.complete && i.naturalWidth > 0), `Photo 2 de ${title}`);
  await capture(page, "galerie");
  assert.equal((await api("GET", `/v1/offers/${offer.id}`, undefined, owner.token)).photos.length, 2);

  // Removing one: the listing keeps the other.
  await page.getByRole("button", { name: "Modifier les photos" }).click();
  await page.getByRole("button", { name: "Retirer la photo 1" }).click();
  await page.getByRole("button", { name: "Enregistrer les photos" }).click();
  await page.getByText("Photos enregistrées.").waitFor();
  const kept = (await api("GET", `/v1/offers/${offer.id}`, undefined, owner.token)).photos;
  assert.equal(kept.length, 1);
  assert.notEqual(kept[0], first.id);
  await page.context().close();

  // Another member, on a phone, sees the gallery.
  const viewer = await registerViaApi("regard");
  const phone = await newPage({ phone: true });
  await loginThroughUi(phone, viewer);
  await phone.goto(`${BASE}/annonces/offre/${offer.id}`);
  await phone.getByRole("img", { name: `Photo 1 de ${title}` }).waitFor();
  assert.equal(await phone.getByRole("button", { name: "Modifier les photos" }).count(), 0, "only the owner edits the photos");
  await capture(phone, "galerie-telephone");
  await phone.context().close();
});

test("santé du réseau: the administrator opens it from the administration page; every figure says its state in words", async () => {
  const page = await newPage();
  await page.goto(`${BASE}/connexion`);
  await page.getByLabel("Adresse e-mail").fill(ADMIN_EMAIL);
  await page.getByLabel("Mot de passe").fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.getByRole("link", { name: "Administration" }).click();
  await page.getByRole("link", { name: "Santé du réseau" }).click();
  await page.getByRole("heading", { name: "Santé du réseau", level: 1 }).waitFor();
  await page.getByText("État général :").waitFor();
  const outbox = page.getByRole("region", { name: /Publication des événements/ });
  await outbox.getByRole("row").filter({ hasText: "members" }).first().waitFor();
  const services = page.getByRole("region", { name: /^Services/ });
  assert.ok((await services.getByRole("row").count()) > 1, "a row per service figure");
  const states = await page.locator("tbody tr[data-status]").evaluateAll((rows) => rows.map((r) => r.lastElementChild?.textContent?.trim()));
  assert.ok(states.length > 0 && states.every((s) => ["Normal", "À surveiller", "Critique"].includes(s)), `states in words: ${states.join(", ")}`);
  await capture(page, "sante-du-reseau");
  await page.context().close();
});

test("labels: the kiosk finds an object by its scanned label; the label's address opens the object's page, where a member reserves it", async () => {
  const staff = await staffMember("etiquettes");
  const title = `Appareil à raclette ${RUN}`;
  const item = await api(
    "POST",
    `/v1/sites/${world.site.id}/items`,
    { category: "outillage-a-main", title, condition: "good", weight_g: 3200, mode: "lend" },
    staff.token,
  );
  const address = `${BASE}/annonces/offre/${item.id}`; // what the label's QR code holds

  const kiosk = await newPage();
  await kiosk.goto(`${BASE}/kiosk?site=${world.site.id}`);
  const scan = kiosk.getByRole("form", { name: "Scanner une étiquette" });
  await scan.getByLabel("Code de l’étiquette").fill("pas un code");
  await scan.getByRole("button", { name: "Trouver l’objet" }).click();
  await scan.getByText("Ce code n’est pas celui d’une étiquette", { exact: false }).waitFor();
  // A scanner types the address, then Enter.
  await scan.getByLabel("Code de l’étiquette").fill(address);
  await scan.getByLabel("Code de l’étiquette").press("Enter");
  await kiosk.getByText("Objet trouvé par son étiquette :").waitFor();
  const cards = kiosk.locator("ul.kiosk-items > li");
  await cards.filter({ hasText: title }).waitFor();
  assert.equal(await cards.count(), 1, "only the scanned object shows");
  await capture(kiosk, "borne-scan");
  // The short code printed under the QR, typed by hand.
  await kiosk.getByRole("button", { name: "Voir tous les objets" }).click();
  const short = `${item.id.slice(0, 4)}-${item.id.slice(4, 8)}`.toUpperCase();
  await scan.getByLabel("Code de l’étiquette").fill(short);
  await scan.getByRole("button", { name: "Trouver l’objet" }).click();
  await kiosk.getByRole("button", { name: `Réserver : ${title}` }).waitFor();
  await kiosk.context().close();

  // A member's phone opens the label's address: the object's page, to reserve it.
  const member = await registerViaApi("scanneuse");
  const phone = await newPage({ phone: true });
  await loginThroughUi(phone, member);
  await phone.goto(address);
  await phone.getByRole("heading", { name: title, level: 1 }).waitFor();
  await phone.locator("dd", { hasText: "3,2 kg" }).waitFor();
  await capture(phone, "objet-etiquette");
  await phone.getByRole("button", { name: "Réserver cet objet" }).click();
  await phone.getByText("Réservé pour vous", { exact: false }).waitFor();
  const reserved = await api("GET", `/v1/items/${item.id}`, undefined, member.token);
  assert.equal(reserved.status, "reserved");
  await phone.context().close();
});

test("swaps: the proposer names what they give; both confirm the hand-over and both listings close", async () => {
  const owner = await registerViaApi("troqueuse");
  const proposer = await registerViaApi("troqueur");
  const wanted = `Livres de cuisine ${RUN}`;
  const given = `Jeu de société ${RUN}`;
  const wantedOffer = await api("POST", "/v1/offers", { kind: "good", mode: "swap", category: "perceuses", title: wanted, site_id: world.site.id }, owner.token);
  const givenOffer = await api("POST", "/v1/offers", { kind: "good", mode: "swap", category: "perceuses", title: given, site_id: world.site.id }, proposer.token);

  const phone = await newPage({ phone: true });
  await loginThroughUi(phone, proposer);
  const badge = phone.getByTestId("etat-echange");
  const form = phone.getByRole("form", { name: "Proposer un échange" });
  for (const deadline = Date.now() + WAIT_MS; ; ) {
    await phone.goto(`${BASE}/annonces/offre/${wantedOffer.id}`);
    await phone.getByRole("button", { name: "Proposer un échange" }).click();
    await form.getByRole("button", { name: "Envoyer la proposition" }).click();
    await form.getByText("Choisissez ce que vous donnez en échange.").waitFor();
    await form.getByLabel("Ce que je donne en échange").selectOption({ label: given });
    await form.getByRole("button", { name: "Envoyer la proposition" }).click();
    await badge.or(form.getByRole("alert")).first().waitFor();
    if (await badge.isVisible()) break;
    if (Date.now() > deadline) throw new Error(`swap refused: ${await form.getByRole("alert").textContent()}`);
  }
  await phone.locator("dd", { hasText: given }).waitFor();
  const exchangeUrl = phone.url();
  await capture(phone, "troc");

  const desktop = await newPage();
  await loginThroughUi(desktop, owner);
  await desktop.goto(exchangeUrl);
  await desktop.getByRole("button", { name: "Accepter" }).click();
  await desktop.getByTestId("etat-echange").filter({ hasText: /^Accepté$/ }).waitFor();
  await desktop.getByRole("button", { name: "Confirmer la remise de l’objet" }).click();
  await desktop.getByText("Vous avez confirmé la remise.", { exact: false }).waitFor();
  await phone.reload();
  await phone.getByRole("button", { name: "Confirmer la remise de l’objet" }).click();
  await phone.getByTestId("etat-echange").filter({ hasText: "Terminé" }).waitFor();
  await capture(desktop, "troc-remise");
  for (const [offer, member] of [[wantedOffer, owner], [givenOffer, proposer]]) {
    await pollUntil(
      async () => (await api("GET", `/v1/offers/${offer.id}`, undefined, member.token)).status === "closed",
      () => `${offer.title} stays open after the swap`,
    );
  }
  await phone.context().close();
  await desktop.context().close();
});

// Two communities of this installation, each with a site (the partner picker names a community by
// its sites) and an administrator of its own (not the platform's).
async function federationCommunity(label, lat) {
  const community = await api("POST", "/v1/communities", { name: `Communauté ${label} ${RUN}`, policy: {} }, world.adminToken);
  const site = await api(
    "POST",
    "/v1/sites",
    { community_id: community.id, name: `Tiers-lieu ${label} ${RUN}`, kind: "tiers_lieu", location: { lat, lon: 3.06 }, address: `${label} rue de la Fédération, 59000 Lille` },
    world.adminToken,
  );
  const email = `admin-${label.toLowerCase()}.${RUN}@essai.maillon.local`;
  const display_name = `Admin ${label} ${RUN}`;
  const session = await api(
    "POST",
    "/v1/auth/register",
    { email, password: PASSWORD, display_name, community_id: community.id, home_site_id: site.id },
    world.adminToken,
  );
  await api("POST", `/v1/communities/${community.id}/admins`, { member_id: session.member.id }, world.adminToken);
  // The ledger learns of the community, then of its member, from the members stream: once the
  // member's account is open, a link to or from the community finds it.
  await pollUntil(
    () => api("GET", `/v1/ledger/accounts/${session.member.id}`, undefined, session.token).then(
      () => true,
      () => false,
    ),
    () => `the ledger did not open ${display_name}'s account in time`,
  );
  return { community, site, member: { id: session.member.id, email, display_name, token: session.token } };
}

/** The community admin's way in: Administration, then its "Communautés partenaires" link. */
async function openPartners(page, member) {
  await loginThroughUi(page, member);
  await page.getByRole("link", { name: "Administration" }).click();
  await page.getByRole("link", { name: "Communautés partenaires" }).click();
  await page.getByRole("heading", { name: "Communautés partenaires", level: 1 }).waitFor();
}

/** The card of the link with `name`, and its state badge. */
function linkCard(page, name) {
  const card = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name, exact: true }) });
  return { card, state: card.getByTestId("etat-lien") };
}

async function linkOf(communityId, linkPartner) {
  const page = await api("GET", `/v1/federation/links?community_id=${communityId}`, undefined, world.adminToken);
  return page.items.find((l) => l.partner.community_id === linkPartner);
}

for (const [proposerPhone, name] of [
  [false, "desktop proposes, phone accepts"],
  [true, "phone proposes, desktop accepts"],
]) {
  test(`communautés partenaires (${name}): A's admin proposes a link to B, B's admin accepts with its own limits, both see it active, A suspends`, async () => {
    const tag = proposerPhone ? "2" : "1";
    const a = await federationCommunity(`A${tag}`, 50.63);
    const b = await federationCommunity(`B${tag}`, 50.64);

    // A proposes: wrong input is said in words (in the form, then the API's refusal), then B.
    const pageA = await newPage({ phone: proposerPhone });
    await openPartners(pageA, a.member);
    await pageA.getByText("Aucun lien pour l’instant").waitFor();
    const propose = pageA.getByRole("form", { name: "Proposer un lien" });
    await propose.getByRole("button", { name: "Proposer le lien" }).click();
    await propose.getByText("Choisissez la communauté partenaire.").waitFor();
    await propose.getByRole("radio", { name: "Par son identifiant", exact: false }).check();
    await propose.getByLabel("Identifiant de la communauté partenaire").fill(a.community.id);
    await propose.getByRole("button", { name: "Proposer le lien" }).click();
    await propose.getByRole("alert").filter({ hasText: "Une communauté ne peut pas se lier à elle-même" }).waitFor();
    await propose.getByRole("radio", { name: "Sur cette installation", exact: true }).check();
    await propose.getByLabel("Communauté partenaire", { exact: true }).selectOption({ label: `Réseau de ${b.site.name}` });
    const ourDebt = propose.getByRole("group", { name: "Nos membres pourront lui devoir au plus" });
    await ourDebt.getByLabel("Heures").fill("12");
    await ourDebt.getByLabel("Minutes").fill("75");
    await propose.getByRole("button", { name: "Proposer le lien" }).click();
    await ourDebt.getByText("minutes de 0 à 59", { exact: false }).waitFor();
    await ourDebt.getByLabel("Minutes").fill("30");
    const theirDebt = propose.getByRole("group", { name: "Elle pourra nous devoir au plus" });
    await theirDebt.getByLabel("Heures").fill("8");
    await theirDebt.getByLabel("Minutes").fill("0");
    // On the phone, a rate other than 1:1 (the partner's minutes per one of ours).
    if (proposerPhone) await propose.getByLabel("Taux").fill("1,5");
    await propose.getByRole("button", { name: "Proposer le lien" }).click();
    await pageA.getByText(`Lien proposé à Réseau de ${b.site.name}.`, { exact: false }).waitFor();
    const atA = linkCard(pageA, b.community.name);
    await atA.state.filter({ hasText: /^Proposée$/ }).waitFor();
    await atA.card.getByText(`en attente de l’acceptation de ${b.community.name}`, { exact: false }).waitFor();
    await atA.card.getByText("jusqu’à 12 h 30").waitFor();
    await atA.card.getByText("jusqu’à 8 h", { exact: true }).waitFor();
    if (proposerPhone) await atA.card.getByText(`1 minute de chez nous vaut 1,5 minute chez ${b.community.name}.`).waitFor();
    else assert.equal(await atA.card.getByText("Taux").count(), 0, "no rate shown at 1:1");
    // The same link again is refused, in words.
    await propose.getByLabel("Communauté partenaire", { exact: true }).selectOption({ label: `Réseau de ${b.site.name}` });
    await propose.getByRole("button", { name: "Proposer le lien" }).click();
    await propose.getByRole("alert").filter({ hasText: "Un lien existe déjà avec cette communauté" }).waitFor();
    await capture(pageA, `partenaires-proposition-${tag}`);

    // B accepts with its own limits.
    const pageB = await newPage({ phone: !proposerPhone });
    await openPartners(pageB, b.member);
    const atB = linkCard(pageB, a.community.name);
    await atB.state.filter({ hasText: /^Proposée$/ }).waitFor();
    const accept = atB.card.getByRole("form", { name: `Accepter le lien avec ${a.community.name}` });
    // The proposer's stand, mirrored, until B sets its own.
    assert.equal(await accept.getByRole("group", { name: "Nos membres peuvent lui devoir au plus" }).getByLabel("Heures").inputValue(), "8");
    await capture(pageB, `partenaires-a-accepter-${tag}`);
    const bDebt = accept.getByRole("group", { name: "Nos membres peuvent lui devoir au plus" });
    await bDebt.getByLabel("Heures").fill("5");
    await bDebt.getByLabel("Minutes").fill("15");
    const bCredit = accept.getByRole("group", { name: "Elle peut nous devoir au plus" });
    await bCredit.getByLabel("Heures").fill("20");
    await bCredit.getByLabel("Minutes").fill("0");
    await accept.getByRole("button", { name: "Accepter le lien" }).click();
    await atB.state.filter({ hasText: /^Active$/ }).waitFor();
    await atB.card.getByText(`Le lien avec ${a.community.name} est actif.`).waitFor();
    await pageB.getByText("Une proposition attend votre réponse.").waitFor({ state: "hidden" });
    await atB.card.getByText("jusqu’à 5 h 15").waitFor();
    await atB.card.getByText("jusqu’à 20 h", { exact: true }).waitFor();
    await atB.card.getByTestId("solde-lien").filter({ hasText: "Les comptes sont à l’équilibre" }).waitFor();
    // A's admin pays B's across the link: B now owes A, each side says so in words.
    const paid = 90;
    const received = proposerPhone ? 135 : paid; // at 1,5 of B's minutes per one of A's
    await api("POST", "/v1/federation/transfers", { id: randomUUID(), payee_community_id: b.community.id, to_member_id: b.member.id, minutes: paid }, a.member.token);
    await until(atB.card.getByTestId("solde-lien").filter({ hasText: `Nous devons ${formatMinutes(received)} à ${a.community.name}` }), () =>
      pageB.getByRole("button", { name: "Actualiser" }).click(),
    );
    if (proposerPhone) await atB.card.getByText(`1 minute de chez ${a.community.name} vaut 1,5 minute chez nous.`).waitFor();
    await atB.card.getByRole("button", { name: "Voir le rapprochement" }).click();
    await atB.card.getByText("Aucune différence : les deux comptes concordent", { exact: false }).waitFor();
    await capture(pageB, `partenaires-actif-${tag}`);
    const seenByB = await linkOf(b.community.id, a.community.id);
    assert.deepEqual([seenByB.state, seenByB.debit_limit_minutes, seenByB.credit_limit_minutes], ["active", 315, 1200]);

    // A sees it active with its own limits, and suspends it; B sees it suspended.
    await until(atA.state.filter({ hasText: /^Active$/ }), () => pageA.getByRole("button", { name: "Actualiser" }).click());
    await atA.card.getByText("jusqu’à 12 h 30").waitFor();
    await atA.card.getByTestId("solde-lien").filter({ hasText: `${b.community.name} nous doit ${formatMinutes(paid)}` }).waitFor();
    await atA.card.getByRole("button", { name: `Suspendre le lien avec ${b.community.name}` }).click();
    await atA.card.getByRole("button", { name: "Oui, suspendre" }).click();
    await atA.state.filter({ hasText: /^Suspendue$/ }).waitFor();
    await atA.card.getByText("plus aucun échange ne le traverse", { exact: false }).waitFor();
    await capture(pageA, `partenaires-suspendu-${tag}`);
    await until(atB.state.filter({ hasText: /^Suspendue$/ }), () => pageB.getByRole("button", { name: "Actualiser" }).click());
    assert.equal(await atB.card.getByRole("button", { name: /^Suspendre/ }).count(), 0, "a suspended link offers no suspension");
    for (const [side, partner] of [[a, b], [b, a]]) assert.equal((await linkOf(side.community.id, partner.community.id)).state, "suspended");
    // B did not suspend it: B is told so, and cannot lift A's suspension.
    await atB.card.getByText(`${a.community.name} l’a suspendu : les échanges reprendront quand`, { exact: false }).waitFor();
    assert.equal(await atB.card.getByRole("button", { name: /^Reprendre/ }).count(), 0, "only the side that suspended a link resumes it");
    if (proposerPhone) {
      // A resumes it, after an in-page confirmation: active on both sides again.
      await atA.card.getByRole("button", { name: `Reprendre les échanges avec ${b.community.name}` }).click();
      await atA.card.getByRole("button", { name: "Oui, reprendre" }).click();
      await atA.state.filter({ hasText: /^Active$/ }).waitFor();
      await atA.card.getByText(`Les échanges avec ${b.community.name} reprennent.`).waitFor();
      await capture(pageA, `partenaires-repris-${tag}`);
      await until(atB.state.filter({ hasText: /^Active$/ }), () => pageB.getByRole("button", { name: "Actualiser" }).click());
      for (const [side, partner] of [[a, b], [b, a]]) assert.equal((await linkOf(side.community.id, partner.community.id)).state, "active");
    }
    await pageA.context().close();
    await pageB.context().close();

    // Staff of A's site see A's links, read-only.
    if (proposerPhone) return;
    const staff = await api(
      "POST",
      "/v1/auth/register",
      { email: `accueil-a.${RUN}@essai.maillon.local`, password: PASSWORD, display_name: `Accueil A ${RUN}`, community_id: a.community.id, home_site_id: a.site.id },
      world.adminToken,
    );
    await api("POST", `/v1/sites/${a.site.id}/staff`, { member_id: staff.member.id }, world.adminToken);
    const desk = await newPage();
    await openPartners(desk, { email: `accueil-a.${RUN}@essai.maillon.local` });
    const atDesk = linkCard(desk, b.community.name);
    await atDesk.state.filter({ hasText: /^Suspendue$/ }).waitFor();
    await desk.getByText("Vous consultez ces liens sans pouvoir les modifier", { exact: false }).waitFor();
    assert.equal(await desk.getByRole("form", { name: "Proposer un lien" }).count(), 0, "staff propose no link");
    assert.equal(await atDesk.card.getByRole("button").count(), 0, "staff act on no link");
    await desk.context().close();
  });
}

// ------------------------------------------------------------------------------ a partner installation
/**
 * Another Maillon installation, played by the journey through the federation door
 * (POST /federation/v1/messages, through the gateway): its own Ed25519 key, a community of its
 * own, messages signed over their exact bytes as an installation signs them. Its address is a
 * loopback one nothing listens on: what our ledger sends it waits there, retried.
 */
function partnerInstallation() {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x, "base64url");
  return { communityId: randomUUID(), url: "http://127.0.0.77:9", publicKey: raw.toString("base64"), privateKey };
}

async function sendSigned(partner, linkId, toCommunity, type, payload) {
  const body = JSON.stringify({
    id: randomUUID(),
    link_id: linkId,
    from_community_id: partner.communityId,
    to_community_id: toCommunity,
    type,
    sent_at: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    payload,
  });
  const signature = sign(null, Buffer.from(body), partner.privateKey).toString("base64");
  const response = await fetch(`${BASE}/federation/v1/messages`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Maillon-Signature": `ed25519=${signature}` },
    body,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${type} → ${response.status} ${text}`);
  return JSON.parse(text);
}

/** A partner listing's publication, as the partner installation sends it (listing.publish). */
function partnerListing(partner, { id = randomUUID(), side = "offer", kind, mode, category, title, description, price_minutes = 0, deposit_minutes }) {
  return {
    id,
    side,
    member_id: randomUUID(),
    community_id: partner.communityId,
    kind,
    mode,
    category,
    title,
    description,
    tags: [],
    grid: { lat: 50.6605, lon: 3.0605 },
    reach_km: 5,
    price_minutes,
    ...(deposit_minutes === undefined ? {} : { deposit_minutes }),
    visibility: "federation",
    created_at: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    revision: 1,
  };
}

/** Our community, linked with a partner installation played by the journey (its link.propose accepted here). */
async function linkedWithPartner(label, lat) {
  const ours = await federationCommunity(label, lat);
  const partner = partnerInstallation();
  const linkId = randomUUID();
  const proposed = await sendSigned(partner, linkId, ours.community.id, "link.propose", {
    public_key: partner.publicKey,
    url: partner.url,
    debit_limit_minutes: 300,
    credit_limit_minutes: 300,
    rate_micro: 1_000_000,
  });
  assert.equal(proposed.status, "received");
  await api("POST", `/v1/federation/links/${linkId}/accept`, {}, ours.member.token);
  return { ours, partner, linkId };
}

/** Opens a listing's page, loaded again until the listing's copy has come (it arrives by events). */
async function openListing(page, side, id, title) {
  await page.goto(`${BASE}/annonces/${side === "offer" ? "offre" : "demande"}/${id}`);
  const heading = page.getByRole("heading", { name: title, level: 1 });
  await until(heading, () => page.reload());
}

test("communauté partenaire d'une autre installation: its listings show in search and on their pages; its offers are proposed on from here, with no conversation across, on a phone and a desktop", async () => {
  const { ours, partner, linkId } = await linkedWithPartner("Q", 50.66);
  const publish = async (listing) => assert.equal((await sendSigned(partner, linkId, ours.community.id, "listing.publish", listing)).status, "received");
  const title = `Scie sauteuse de la voisine ${RUN}`;
  const loan = partnerListing(partner, {
    kind: "good",
    mode: "lend",
    category: "perceuses",
    title,
    description: `Lame neuve, prêtée avec sa mallette ${RUN}.`,
    price_minutes: 30,
    deposit_minutes: 60,
  });
  const service = partnerListing(partner, {
    kind: "service",
    mode: "service",
    category: "montage-de-meubles",
    title: `Montage de meubles en kit ${RUN}`,
    description: `J’apporte ma visseuse ${RUN}.`,
    price_minutes: 45,
  });
  const request = partnerListing(partner, {
    side: "request",
    kind: "service",
    mode: "service",
    category: "jardinage",
    title: `Cherche de l’aide pour tailler une haie ${RUN}`,
    description: `Une haie de 10 m ${RUN}.`,
  });
  for (const listing of [loan, service, request]) await publish(listing);
  for (const phone of [false, true]) {
    const tag = phone ? "tel" : "bureau";
    const page = await newPage({ phone });
    await loginThroughUi(page, ours.member);
    await page.goto(`${BASE}/recherche`);
    await page.getByLabel("Mots-clés").fill(`scie ${RUN}`);
    await page.getByLabel("Distance").selectOption("10");
    const found = page.getByRole("link", { name: title });
    await until(found, () => page.getByRole("button", { name: "Chercher", exact: true }).click());
    await page.getByRole("listitem").filter({ has: found }).getByText("Communauté partenaire").waitFor();
    await checkAxe(page, `recherche-partenaire-${tag}`);

    // A loan: asked for from here; its calendar and queue are the owner's installation's.
    await found.click();
    await page.getByRole("heading", { name: title, level: 1 }).waitFor();
    await page.getByText(`Lame neuve, prêtée avec sa mallette ${RUN}.`).waitFor();
    await page.locator("dd", { hasText: "un membre d’une communauté partenaire (127.0.0.77:9)" }).waitFor();
    await page.getByText("Vous pouvez proposer l’échange d’ici : son auteur vous répondra depuis son installation.", { exact: false }).waitFor();
    await page.getByRole("button", { name: "Demander à emprunter" }).waitFor();
    assert.equal(await page.getByRole("heading", { name: "Disponibilités" }).count(), 0, "the calendar is the owner's installation's");
    assert.equal(await page.getByRole("heading", { name: "File d’attente" }).count(), 0, "the queue is the owner's installation's");
    if (phone) await assertNoSidewaysScroll(page, "annonce-partenaire");
    await capture(page, `annonce-partenaire-${tag}`);

    // A request: taken up over there.
    await openListing(page, "request", request.id, request.title);
    await page.getByText("Une demande se prend auprès de cette communauté", { exact: false }).waitFor();
    assert.equal(await page.getByRole("button", { name: "Proposer un échange" }).count(), 0, "a partner's request is not proposed on from here");
    await checkAxe(page, `demande-partenaire-${tag}`);

    // A service: proposed from here (no place of ours offered), and the exchange lives here.
    await openListing(page, "offer", service.id, service.title);
    const message = `Je suis libre samedi ${RUN}`;
    const proposed = page.getByTestId("etat-echange").filter({ hasText: "Proposé" });
    const refusal = page.locator("form.inline-form").getByRole("alert");
    // The exchange service hears of the copy by events: a proposal sent before is refused in
    // words, and made anew on the page loaded again.
    for (const deadline = Date.now() + WAIT_MS; ; ) {
      await page.getByRole("button", { name: "Proposer un échange" }).click();
      assert.equal(await page.getByLabel("Lieu de remise (facultatif)").count(), 0, "no place of ours for a partner's offer");
      assert.equal(await page.getByLabel("Crédits de temps (minutes)").inputValue(), "45");
      await page.getByLabel("Message (facultatif)").fill(message);
      await page.getByRole("button", { name: "Envoyer la proposition" }).click();
      await proposed.or(refusal).first().waitFor();
      if (await proposed.isVisible()) break;
      if (Date.now() > deadline) throw new Error(`proposal refused: ${await refusal.textContent()}`);
      await page.reload();
      await page.getByRole("heading", { name: service.title, level: 1 }).waitFor();
    }
    const exchangeId = page.url().split("/").pop();
    await page.getByText("Échange avec un membre d’une installation partenaire (127.0.0.77:9).", { exact: false }).waitFor();
    await page.getByText("pour vous joindre, passez par l’accueil de votre tiers-lieu", { exact: false }).waitFor();
    await page.locator("dd", { hasText: "un membre de 127.0.0.77:9" }).waitFor();
    await page.locator("dd", { hasText: message }).waitFor();
    await page.getByRole("link", { name: service.title }).waitFor();
    assert.equal(await page.getByLabel("Votre message").count(), 0, "no message box across installations");
    assert.equal(await page.getByRole("heading", { name: "Messages" }).count(), 0, "no conversation across installations");
    const living = await api("GET", `/v1/exchanges/${exchangeId}`, undefined, ours.member.token);
    assert.equal(living.partner_url, partner.url, "the exchange names the owner's installation");
    if (phone) await assertNoSidewaysScroll(page, "echange-partenaire");
    await capture(page, `echange-partenaire-${tag}`);

    // Listed among the member's exchanges, then cancelled here (the exchange lives here: 200).
    await page.getByRole("link", { name: "← Tous mes échanges" }).click();
    const card = page.getByRole("list", { name: "Échanges" }).getByRole("listitem").filter({ has: page.locator(`a[href="/echanges/${exchangeId}"]`) });
    await card.getByRole("link", { name: service.title }).waitFor();
    await card.getByText("Installation partenaire").waitFor();
    await card.getByRole("link", { name: "Échange avec un membre de 127.0.0.77:9" }).click();
    await page.getByRole("button", { name: "Annuler l’échange" }).click();
    await page.getByRole("button", { name: "Oui, annuler l’échange" }).click();
    await page.getByTestId("etat-echange").filter({ hasText: "Annulé" }).waitFor();
    await page.getByText("Envoyé à l’installation partenaire", { exact: false }).waitFor({ state: "hidden" });
    assert.equal((await api("GET", `/v1/exchanges/${exchangeId}`, undefined, ours.member.token)).state, "cancelled");
    await page.context().close();
  }
});

/** An exchange's stored document as an installation relays it (exchange.state), for the partner to send. */
function relayedExchange({ id, provider, receiver, minutes, history, state }) {
  return {
    id,
    site_id: "",
    provider_id: provider,
    receiver_id: receiver,
    proposer_id: receiver,
    minutes,
    state,
    proposed_at_s: history[0].at_s,
    attempt: 0,
    provider_confirmed: false,
    receiver_confirmed: false,
    staff_confirmed: false,
    reason: "",
    dispute_reason: "",
    hold_lost: false,
    resolution: null,
    history,
    mode: "service",
    starts_at_s: 0,
    due_at_s: 0,
    deposit_minutes: 0,
    deposit: "none",
    renewals: 0,
    requested_due_at_s: 0,
    provider_returned: false,
    receiver_returned: false,
    staff_returned: false,
    given_offer_id: "",
    no_show_member_id: "",
  };
}

test("communauté partenaire d'une autre installation: the owner answers a partner member's proposal from here; the answer is sent over and the page follows the partner's reply", async () => {
  const { ours, partner, linkId } = await linkedWithPartner("R", 50.67);
  const offer = await api(
    "POST",
    "/v1/offers",
    { kind: "service", mode: "service", category: "jardinage", title: `Taille de haies ${RUN}`, site_id: ours.site.id, price_minutes: 30, duration_minutes: 60, visibility: "federation" },
    ours.member.token,
  );
  // A member of the partner installation proposed on its copy of the offer: the exchange lives
  // there, and the partner sends its state for our mirror.
  const id = randomUUID();
  const them = randomUUID();
  const at = Math.floor(Date.now() / 1000);
  const proposedAt = { at_s: at, from: "proposed", to: "proposed", actor: them, for: "", note: "proposed", comment: "" };
  const message = `Bonjour, ma haie fait 10 m ${RUN}`;
  let version = Date.now() * 1000;
  const sendState = (state, history) =>
    sendSigned(partner, linkId, ours.community.id, "exchange.state", {
      exchange_id: id,
      version: ++version,
      community_id: ours.community.id,
      partner_community_id: partner.communityId,
      offer_id: offer.id,
      scheduled_at: null,
      message,
      exchange: relayedExchange({ id, provider: ours.member.id, receiver: them, minutes: 30, history, state }),
    });
  assert.equal((await sendState("proposed", [proposedAt])).status, "received");
  await pollUntil(
    () => api("GET", `/v1/exchanges/${id}`, undefined, ours.member.token).then(
      () => true,
      () => false,
    ),
    () => "the mirror of the partner's exchange did not show in time",
  );

  const page = await newPage({ phone: true });
  await loginThroughUi(page, ours.member);
  await page.goto(`${BASE}/echanges/${id}`);
  await page.getByTestId("etat-echange").filter({ hasText: "Proposé" }).waitFor();
  await page.getByText("Échange avec un membre d’une installation partenaire (127.0.0.77:9).", { exact: false }).waitFor();
  await page.locator("dd", { hasText: "un membre de 127.0.0.77:9" }).waitFor();
  await page.locator("dd", { hasText: message }).waitFor();
  assert.equal(await page.getByLabel("Votre message").count(), 0, "no message box across installations");

  // The owner declines: sent to the partner installation (202), the page says so and waits.
  await page.getByRole("button", { name: "Refuser" }).click();
  await page.getByText("Envoyé à l’installation partenaire : l’échange se mettra à jour dans quelques secondes.").waitFor();
  assert.equal(await page.getByRole("button", { name: "Refuser" }).count(), 0, "nothing to click twice while it is on its way");
  assert.equal(await page.getByTestId("etat-echange").textContent(), "Proposé", "unchanged until the partner answers");
  await capture(page, "echange-partenaire-envoye");

  // The partner applied it and sends the new state: the page shows it without a reload.
  const declined = { at_s: at + 1, from: "proposed", to: "declined", actor: ours.member.id, for: "", note: "declined", comment: "" };
  assert.equal((await sendState("declined", [proposedAt, declined])).status, "received");
  await page.getByTestId("etat-echange").filter({ hasText: "Refusé" }).waitFor();
  await page.getByText("Envoyé à l’installation partenaire", { exact: false }).waitFor({ state: "hidden" });
  await page.context().close();
});