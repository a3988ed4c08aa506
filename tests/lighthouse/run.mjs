// Lighthouse figures of the web UI as a member and the desk see it: the member home, a listing's
// page and the desk, in Debian's headless chromium (mobile form factor, Lighthouse's default
// simulated throttling), each MAILLON_LIGHTHOUSE_RUNS times (default 3; the median is kept).
// Prints performance, accessibility and best-practices per page; exits
// non-zero when one is below MAILLON_LIGHTHOUSE_MIN (default 95). Not in script/test (slow).
//
//   cd tests/lighthouse && npm ci && MAILLON_BASE_URL=http://127.0.0.1:8080 node run.mjs
//
// Needs a running stack (script/server, or restack) and its administrator (MAILLON_ADMIN_EMAIL,
// MAILLON_ADMIN_PASSWORD) to make a site and a staff member. Signs in through the browser, then
// runs Lighthouse in the same browser without clearing its storage, so pages are seen signed in.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import lighthouse from "lighthouse";
import { chromium } from "playwright-core";

import { pollUntil } from "../support/poll.mjs";

const BASE = (process.env.MAILLON_BASE_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
const ADMIN_EMAIL = process.env.MAILLON_ADMIN_EMAIL ?? "admin@maillon.local";
const ADMIN_PASSWORD = process.env.MAILLON_ADMIN_PASSWORD ?? "maillon-admin-dev";
const CHROMIUM = process.env.MAILLON_CHROMIUM ?? "/usr/bin/chromium";
const MIN = Number(process.env.MAILLON_LIGHTHOUSE_MIN ?? 95);
const PASSWORD = "mot-de-passe-phare-2026";
const RUN = Date.now().toString(36);
const CATEGORIES = ["performance", "accessibility", "best-practices"];

// A 429 (the password lane's queue, a burst of the set-up) is sent again until it passes, the
// pauses doubling from 1 ms up to a second (the gateway's shortest Retry-After); 20 s at most.
const BUSY_MS = 20_000;
const BUSY_PAUSE_MS = 1_000;

async function api(method, path, body, token) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  await pollUntil(
    async () => {
      response = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return response.status !== 429;
    },
    () => `${method} ${path} → 429 for ${BUSY_MS / 1000} s`,
    BUSY_MS,
    BUSY_PAUSE_MS,
  );
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function startChromium() {
  const profile = mkdtempSync(join(tmpdir(), "maillon-lighthouse-"));
  const child = spawn(CHROMIUM, ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync", `--user-data-dir=${profile}`, "--remote-debugging-port=0", "about:blank"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const ws = await new Promise((resolve, reject) => {
    let seen = "";
    child.on("exit", (code) => reject(new Error(`chromium exited (${code}): ${seen}`)));
    child.stderr.on("data", (chunk) => {
      seen += chunk;
      const found = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
      if (found) resolve(found[1]);
    });
  });
  return { child, profile, ws, port: Number(new URL(ws).port) };
}

async function setUp() {
  const admin = await api("POST", "/v1/auth/login", { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
  let site = (await api("GET", "/v1/sites?limit=100")).items[0];
  if (!site) {
    const community = await api("POST", "/v1/communities", { name: `Phare ${RUN}`, policy: {} }, admin.token);
    site = await api(
      "POST",
      "/v1/sites",
      { community_id: community.id, name: "Ressourcerie de Fives", kind: "ressourcerie", location: { lat: 50.6297, lon: 3.0917 }, address: "2 rue Pierre-Legrand, 59800 Lille" },
      admin.token,
    );
  }
  const register = async (label) => {
    const email = `${label}.${RUN}@phare.maillon.local`;
    const s = await api("POST", "/v1/auth/register", { email, password: PASSWORD, display_name: `${label} ${RUN}`, community_id: site.community_id, home_site_id: site.id });
    return { email, id: s.member.id, token: s.token };
  };
  const member = await register("Camille");
  const staff = await register("Accueil");
  await api("POST", `/v1/sites/${site.id}/staff`, { member_id: staff.id }, admin.token);
  const offer = await api(
    "POST",
    "/v1/offers",
    { kind: "good", mode: "lend", category: "perceuses", title: `Perceuse à percussion ${RUN}`, description: "Avec sa mallette et un jeu de forets.", site_id: site.id },
    staff.token,
  );
  await api("POST", "/v1/requests", { kind: "good", mode: "lend", category: "perceuses", title: `Cherche une perceuse ${RUN}`, site_id: site.id }, member.token);
  return { site, member, staff, offer };
}

async function signIn(browser, who, site) {
  const context = browser.contexts()[0];
  await context.clearCookies();
  const page = await context.newPage();
  await page.goto(`${BASE}/connexion`);
  await page.getByLabel("Adresse e-mail").fill(who.email);
  await page.getByLabel("Mot de passe").fill(PASSWORD);
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.getByRole("button", { name: "Se déconnecter" }).waitFor();
  // The desk opens on the last site chosen in this tab's session storage; the audit's tab is
  // another one: the staff member's first site is the default there.
  if (site) await page.evaluate((id) => sessionStorage.setItem("maillon.desk-site", id), site.id);
  await page.close();
}

// Lighthouse's figures vary from run to run (more so on a busy machine): each page is measured
// RUNS times and the median of each category is kept, as Lighthouse's own guidance advises.
const RUNS = Number(process.env.MAILLON_LIGHTHOUSE_RUNS ?? 3);

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function auditOnce(port, url) {
  const result = await lighthouse(url, { port, output: "json", logLevel: "error", onlyCategories: CATEGORIES, disableStorageReset: true });
  return result.lhr;
}

async function audit(port, name, url) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await auditOnce(port, url));
  const scores = Object.fromEntries(CATEGORIES.map((c) => [c, median(runs.map((lhr) => Math.round((lhr.categories[c]?.score ?? 0) * 100)))]));
  const all = CATEGORIES.map((c) => `${c} ${runs.map((lhr) => Math.round((lhr.categories[c]?.score ?? 0) * 100)).join("/")}`).join(", ");
  console.log(`${name.padEnd(12)} performance ${scores.performance}  accessibility ${scores.accessibility}  best-practices ${scores["best-practices"]}   (runs: ${all})`);
  // How fast this machine was during the runs: Lighthouse's CPU benchmark (a desktop of 2020 is
  // about 1000-2000) and the load average; a busy machine lowers the performance figure.
  console.log(`${"".padEnd(12)} benchmarkIndex ${runs.map((r) => Math.round(r.environment.benchmarkIndex)).join("/")}, load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores`);
  const lhr = runs[runs.length - 1];
  const failing = Object.values(lhr.audits)
    .filter((a) => a.score !== null && a.score < 0.9 && a.scoreDisplayMode !== "informative" && a.scoreDisplayMode !== "manual")
    .map((a) => a.id);
  if (failing.length) console.log(`${"".padEnd(12)} audits below 0.9 (last run): ${failing.join(", ")}`);
  if (process.env.MAILLON_LIGHTHOUSE_DETAILS) {
    for (const id of ["first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift", "speed-index"]) {
      console.log(`${"".padEnd(12)} ${id}: ${lhr.audits[id]?.displayValue}`);
    }
    for (const id of ["errors-in-console", "layout-shifts", "bootup-time", "long-tasks"]) {
      console.log(`${"".padEnd(12)} ${id}: ${JSON.stringify(lhr.audits[id]?.details?.items ?? []).slice(0, 600)}`);
    }
  }
  return scores;
}

const { site, member, staff, offer } = await setUp();
const chrome = await startChromium();
let low = false;
try {
  const browser = await chromium.connectOverCDP(chrome.ws);
  await signIn(browser, member);
  const pages = [
    ["home", `${BASE}/`],
    ["listing", `${BASE}/annonces/offre/${offer.id}`],
  ];
  for (const [name, url] of pages) low = Object.values(await audit(chrome.port, name, url)).some((s) => s < MIN) || low;
  await signIn(browser, staff, site);
  low = Object.values(await audit(chrome.port, "desk", `${BASE}/desk`)).some((s) => s < MIN) || low;
  await browser.close().catch(() => undefined);
} finally {
  chrome.child.kill();
  await new Promise((resolve) => chrome.child.once("exit", resolve));
  rmSync(chrome.profile, { recursive: true, force: true });
}
if (low) {
  console.log(`below ${MIN} somewhere`);
  process.exit(1);
}
