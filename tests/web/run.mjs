// Browser scenarios of the Maillon web UI, run by script/test: playwright-core drives Debian's
// chromium (headless) against the gateway; axe-core checks each main page; screenshots of each
// main page at 360 px and 1280 px go to $MAILLON_SCREENSHOTS. Exits non-zero on any failure.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";

const BASE = (process.env.MAILLON_BASE_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
const SCREENS = process.env.MAILLON_SCREENSHOTS ?? "/tmp/maillon-screens";
const ADMIN_EMAIL = process.env.MAILLON_ADMIN_EMAIL ?? "admin@maillon.local";
const ADMIN_PASSWORD = process.env.MAILLON_ADMIN_PASSWORD ?? "maillon-admin-dev";
const CHROMIUM = process.env.MAILLON_CHROMIUM ?? "/usr/bin/chromium";
const AXE_PATH = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const PASSWORD = "mot-de-passe-essai-2025";
const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
// Waits on conditions, never fixed sleeps: these bound how long a condition may take.
const WAIT_MS = 15_000;
const POLL_MS = 250;

let browser;
let chromiumProcess;
let profileDir;
const world = { site: null, offerOwner: null, requester: null, staff: null };
const axeReport = [];

// ------------------------------------------------------------------------------ API helpers
async function api(method, path, body, token, attempt = 0) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  // Registration and login are rate limited; the answer says when to come back.
  if (response.status === 429 && attempt < 20) {
    const wait_s = Number(response.headers.get("retry-after")) || 1;
    await new Promise((resolve) => setTimeout(resolve, wait_s * 1000));
    return api(method, path, body, token, attempt + 1);
  }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${text}`);
  return data;
}

async function registerViaApi(label) {
  const email = `${label}.${RUN}@essai.maillon.local`;
  const display_name = `${label[0].toUpperCase()}${label.slice(1)} ${RUN}`;
  const session = await api("POST", "/v1/auth/register", {
    email,
    password: PASSWORD,
    display_name,
    community_id: world.site.community_id,
    home_site_id: world.site.id,
  });
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

/** A fresh browser session (its own storage) that only reaches the Maillon origin. */
async function newPage() {
  const context = await browser.newContext({ locale: "fr-FR", viewport: { width: 1280, height: 900 } });
  const origin = new URL(BASE).origin;
  // Map tiles and anything off-site are refused: the pages must stay usable without them.
  await context.route("**/*", (route) => (route.request().url().startsWith(origin) ? route.continue() : route.abort()));
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  return page;
}

async function checkAxe(page, name) {
  await page.addScriptTag({ path: AXE_PATH });
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ["violations"] })).violations);
  const blocking = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  axeReport.push({ name, violations: violations.length, blocking: blocking.length });
  assert.deepEqual(
    blocking.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(" | ")}`),
    [],
    `axe-core on ${name}`,
  );
}

/** Screenshots at phone and desktop width, and the accessibility check at both. */
async function capture(page, name) {
  for (const width of [360, 1280]) {
    await page.setViewportSize({ width, height: width === 360 ? 740 : 900 });
    await page.screenshot({ path: join(SCREENS, `${name}-${width}.png`), fullPage: true });
    await checkAxe(page, `${name} @${width}px`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
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

// ------------------------------------------------------------------------------ set-up
before(async () => {
  mkdirSync(SCREENS, { recursive: true });
  let sites = (await api("GET", "/v1/sites?limit=100")).items;
  if (sites.length === 0) {
    // A bare stack (script/test's): the administrator opens one community and its ressourcerie.
    const admin = await api("POST", "/v1/auth/login", { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
    const community = await api("POST", "/v1/communities", { name: `Essai web ${RUN}`, policy: {} }, admin.token);
    await api(
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
    sites = (await api("GET", "/v1/sites?limit=100")).items;
  }
  assert.ok(sites.length > 0, "the stack has sites");
  world.site = sites.find((s) => s.kind === "ressourcerie") ?? sites.find((s) => s.kind === "objetotheque") ?? sites[0];
  browser = await startChromium();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  if (chromiumProcess && chromiumProcess.exitCode === null) {
    const exited = new Promise((resolve) => chromiumProcess.once("exit", resolve));
    chromiumProcess.kill();
    await exited;
  }
  // The profile is scratch: a file chromium still flushes must not fail the run.
  if (profileDir) rmSync(profileDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  console.log("axe-core:", JSON.stringify(axeReport));
});

// ------------------------------------------------------------------------------ scenarios
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
  const session = await page.evaluate(() => ({ token: localStorage.getItem("maillon.token"), me: JSON.parse(localStorage.getItem("maillon.me")) }));
  Object.assign(world.requester, { id: session.me.id, token: session.token });
  const minutes = 30;
  const before = { owner: await balance(world.offerOwner), requester: await balance(world.requester) };

  await page
    .getByRole("list", { name: "Correspondances" })
    .getByRole("button", { name: `Proposer un échange : ${world.offerTitle}` })
    .click();
  await page.getByLabel("Crédits de temps (minutes)").fill(String(minutes));
  await page.getByLabel("Message (facultatif)").fill("Bonjour, je peux passer samedi.");
  await page.getByRole("button", { name: "Envoyer la proposition" }).click();
  await page.getByTestId("etat-echange").filter({ hasText: "Proposé" }).waitFor();
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
  await kiosk.context().close();

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
    await page.waitForTimeout(POLL_MS);
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
