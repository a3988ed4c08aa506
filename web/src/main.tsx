// Entry of the web UI: the page frame (skip link, header, navigation, the "acting for" banner,
// main landmark) and the choice of page from the path.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import "./styles.css";
import { get, post } from "./api";
import { follow, onNotifications } from "./live";
import { navigate, useLocation } from "./router";
import { csrfToken, session } from "./session";
import { LoginPage, RegisterPage } from "./pages/auth";
import { CreditsPage } from "./pages/credits";
import { DeskPage } from "./pages/desk";
import { ExchangePage, ExchangesPage } from "./pages/exchanges";
import { FiguresPage } from "./pages/figures";
import { HomePage } from "./pages/home";
import { KioskPage } from "./pages/kiosk";
import { ListingsPage } from "./pages/listings";
import { NotificationsPage } from "./pages/notifications";
import { PostPage } from "./pages/post";
import type { Me } from "./types";

function useSession() {
  const [, setTick] = useState(0);
  useEffect(() => session.subscribe(() => setTick((t) => t + 1)), []);
  return { me: session.me(), acting: session.actingFor() };
}

function useUnread(signedIn: boolean): [number, () => void] {
  const [unread, setUnread] = useState(0);
  useEffect(() => {
    if (!signedIn) return;
    follow();
    return onNotifications((fresh) => setUnread((n) => n + fresh.filter((f) => !f.read).length));
  }, [signedIn]);
  return [unread, () => setUnread(0)];
}

function Nav({ path, unread, staff }: { path: string; unread: number; staff: boolean }) {
  const links: [string, string][] = [
    ["/", "Accueil"],
    ["/publier", "Publier"],
    ["/annonces", "Mes annonces"],
    ["/echanges", "Échanges"],
    ["/credits", "Mes crédits"],
    ["/notifications", unread > 0 ? `Notifications (${unread})` : "Notifications"],
  ];
  if (staff) links.push(["/desk", "Conciergerie"]);
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
      {me && <Nav path={path} unread={unread} staff={session.isStaff()} />}
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
};

function Page({ url }: { url: URL }) {
  const path = url.pathname.replace(/\/+$/, "") || "/";
  if (path === "/connexion") return <LoginPage />;
  if (path === "/inscription") return <RegisterPage />;
  if (path === "/chiffres") return <FiguresPage />;
  const exchange = /^\/echanges\/([0-9a-f-]{36})$/.exec(path);
  if (!session.signedIn()) return <LoginPage next={path + url.search} />;
  if (exchange) return <ExchangePage id={exchange[1]} />;
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
  const [unread, clearUnread] = useUnread(!!me);
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

void restoreSession().finally(() => render(<App />, document.getElementById("app")!));
