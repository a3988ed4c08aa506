// Entry of the web UI: the page frame (skip link, header, navigation, the "acting for" banner,
// main landmark) and the choice of page from the path.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import "./styles.css";
import { get, post } from "./api";
import { follow, onNotifications } from "./live";
import { startOffline, useOnline } from "./offline";
import { navigate, useLocation } from "./router";
import { csrfToken, session } from "./session";
import { LoginPage, RegisterPage } from "./pages/auth";
import { CreditsPage } from "./pages/credits";
import { ExchangePage, ExchangesPage } from "./pages/exchanges";
import { HomePage } from "./pages/home";
import { ListingsPage } from "./pages/listings";
import { NotificationsPage } from "./pages/notifications";
import { PostPage } from "./pages/post";
import { ListingPage } from "./pages/listing";
import { SearchPage } from "./pages/search";
import type { Me, Notification, Page } from "./types";
import { lazy } from "./lazy";

// Pages most visits never open load on demand: the first page of a member costs less.
const DeskPage = lazy(() => import("./pages/desk").then((m) => m.DeskPage));
const AdminPage = lazy(() => import("./pages/admin").then((m) => m.AdminPage));
const HealthPage = lazy(() => import("./pages/health").then((m) => m.HealthPage));
const FederationPage = lazy(() => import("./pages/federation").then((m) => m.FederationPage));
const FiguresPage = lazy(() => import("./pages/figures").then((m) => m.FiguresPage));
const KioskPage = lazy(() => import("./pages/kiosk").then((m) => m.KioskPage));
const ProfilePage = lazy(() => import("./pages/profile").then((m) => m.ProfilePage));
const VerifyPage = lazy(() => import("./pages/account").then((m) => m.VerifyPage));
const EmailChangePage = lazy(() => import("./pages/account").then((m) => m.EmailChangePage));
const ResetPage = lazy(() => import("./pages/account").then((m) => m.ResetPage));
const ForgotPage = lazy(() => import("./pages/account").then((m) => m.ForgotPage));

function useSession() {
  const [, setTick] = useState(0);
  useEffect(() => session.subscribe(() => setTick((t) => t + 1)), []);
  return { me: session.me(), acting: session.actingFor() };
}

// The unread notifications, by id: those waiting when the member arrives, then each one the
// stream brings (an id seen twice counts once: the list and the stream may both carry it).
function useUnread(member: string | null): [number, () => void] {
  const [unread, setUnread] = useState<ReadonlySet<string>>(new Set());
  useEffect(() => {
    setUnread(new Set());
    if (!member) return;
    follow();
    const add = (items: Notification[]) =>
      setUnread((known) => {
        const fresh = items.filter((n) => !n.read && !known.has(n.id));
        return fresh.length ? new Set([...known, ...fresh.map((n) => n.id)]) : known;
      });
    void get<Page<Notification>>("/v1/notifications?limit=50", { asSelf: true })
      .then((page) => add(page.items))
      .catch(() => undefined); // the badge then counts what arrives live
    return onNotifications(add);
  }, [member]);
  return [unread.size, () => setUnread(new Set())];
}

function Nav({ path, unread, staff, administers }: { path: string; unread: number; staff: boolean; administers: boolean }) {
  const links: [string, string][] = [
    ["/", "Accueil"],
    ["/recherche", "Chercher"],
    ["/publier", "Publier"],
    ["/annonces", "Mes annonces"],
    ["/echanges", "Échanges"],
    ["/credits", "Mes crédits"],
    ["/notifications", unread > 0 ? `Notifications (${unread})` : "Notifications"],
    ["/profil", "Profil"],
  ];
  if (staff) links.push(["/desk", "Conciergerie"]);
  if (administers) links.push(["/admin", "Administration"]);
  links.push(["/chiffres", "Chiffres"]);
  return (
    <nav aria-label="Navigation principale">
      <ul class="nav">
        {links.map(([href, label]) => (
          <li key={href}>
            <a href={href} aria-current={path === href ? "page" : undefined}>
              {label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function ActingBanner({ name }: { name: string }) {
  return (
    <div class="acting" role="region" aria-label="Action pour un membre">
      <p>
        Vous agissez pour <strong>{name}</strong>.
      </p>
      <button type="button" class="button button--light" onClick={() => session.actFor(null)}>
        Arrêter d’agir pour ce membre
      </button>
    </div>
  );
}

async function logout() {
  try {
    await post("/v1/auth/logout", undefined, { asSelf: true });
  } catch {
    // The session may already be over; forgetting it here is what matters.
  }
  session.expire();
  navigate("/connexion");
}

function Header({ path, unread }: { path: string; unread: number }) {
  const { me } = useSession();
  return (
    <header class="top">
      <div class="top-row">
        <a class="brand" href="/">
          Maillon
        </a>
        {me ? (
          <div class="who">
            <span>{me.display_name}</span>
            <button type="button" class="button button--light" onClick={logout}>
              Se déconnecter
            </button>
          </div>
        ) : (
          <a class="button button--light" href="/connexion">
            Se connecter
          </a>
        )}
      </div>
      {me && <Nav path={path} unread={unread} staff={session.isStaff()} administers={session.mayAdminister()} />}
    </header>
  );
}

const MEMBER_PAGES: Record<string, () => preact.JSX.Element> = {
  "/": () => <HomePage />,
  "/publier": () => <PostPage />,
  "/annonces": () => <ListingsPage />,
  "/echanges": () => <ExchangesPage />,
  "/credits": () => <CreditsPage />,
  "/notifications": () => <NotificationsPage />,
  "/desk": () => <DeskPage />,
  "/recherche": () => <SearchPage />,
  "/profil": () => <ProfilePage />,
  "/admin": () => <AdminPage />,
  "/admin/sante": () => <HealthPage />,
  "/admin/partenaires": () => <FederationPage />,
};

// Pages anyone may open, signed in or not: the links of the account mails among them.
const PUBLIC_PAGES: Record<string, () => preact.JSX.Element> = {
  "/inscription": () => <RegisterPage />,
  "/chiffres": () => <FiguresPage />,
  "/verifier": () => <VerifyPage />,
  "/email": () => <EmailChangePage />,
  "/reinitialiser": () => <ResetPage />,
  "/mot-de-passe-oublie": () => <ForgotPage />,
};

function Page({ url }: { url: URL }) {
  const path = url.pathname.replace(/\/+$/, "") || "/";
  if (path === "/connexion") return <LoginPage />;
  const open = PUBLIC_PAGES[path];
  if (open) return open();
  const exchange = /^\/echanges\/([0-9a-f-]{36})$/.exec(path);
  const listing = /^\/annonces\/(offre|demande)\/([0-9a-f-]{36})$/.exec(path);
  if (!session.signedIn()) return <LoginPage next={path + url.search} />;
  if (exchange) return <ExchangePage id={exchange[1]} />;
  if (listing) return <ListingPage key={listing[2]} side={listing[1] === "offre" ? "offer" : "request"} id={listing[2]} />;
  const page = MEMBER_PAGES[path];
  if (page) return page();
  return (
    <section>
      <h1>Page introuvable</h1>
      <p>
        <a href="/">Revenir à l’accueil</a>
      </p>
    </section>
  );
}

function App() {
  const url = useLocation();
  const { me, acting } = useSession();
  const [unread, clearUnread] = useUnread(me?.id ?? null);
  const online = useOnline();
  const path = url.pathname.replace(/\/+$/, "") || "/";
  useEffect(() => {
    if (path === "/notifications") clearUnread();
  }, [path]);
  // The kiosk is a page of its own: no member navigation on a shared tablet.
  if (path === "/kiosk") {
    return (
      <main id="contenu" class="kiosk">
        <KioskPage site={url.searchParams.get("site")} />
      </main>
    );
  }
  return (
    <>
      <a class="skip" href="#contenu">
        Aller au contenu
      </a>
      <Header path={path} unread={unread} />
      {acting && <ActingBanner name={acting.display_name} />}
      {!online && (
        <p class="offline" role="status">
          Hors ligne : vous voyez les dernières informations enregistrées sur cet appareil.
        </p>
      )}
      <main id="contenu" tabIndex={-1}>
        <Page url={url} />
      </main>
      <footer class="foot">
        <p>Maillon — échanges de biens, de services et de temps entre voisins des tiers-lieux des Hauts-de-France.</p>
      </footer>
    </>
  );
}

// The session cookie is out of the script's reach: a readable CSRF cookie says one exists, and
// the profile comes from the API before the first page is drawn (else a page would flash the
// login form at a signed-in member).
async function restoreSession() {
  session.forgetLegacyStorage();
  if (!csrfToken()) return;
  try {
    session.refresh(await get<Me>("/v1/me", { asSelf: true }));
  } catch {
    // Expired or revoked: the login page shows.
  }
}

void restoreSession().finally(() => {
  render(<App />, document.getElementById("app")!);
  startOffline();
});
