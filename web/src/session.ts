// Who is signed in, and for whom a staff member acts, announced to the components that draw it.
// The session itself is the HttpOnly cookie `maillon_session` the API sets at login: no script
// can read it, so a script injected into a page cannot steal it. The readable `maillon_csrf`
// cookie set with it says a session exists and is echoed in X-CSRF-Token on unsafe calls (a
// page of another site can send our cookie but cannot read this one). Nothing secret is kept
// in the browser's storage; the profile is asked again (GET /v1/me) when the app starts.
import type { Me, PublicMember, Session } from "./types";

// Acting for someone is per tab: closing the desk's tab ends it, so it is never forgotten on.
const ACTING_KEY = "maillon.acting";
// Where the UI of an earlier version kept the bearer token: removed wherever it is left.
const LEGACY_KEYS = ["maillon.token", "maillon.me"];
const CSRF_COOKIE = "maillon_csrf";

type Listener = () => void;
const listeners = new Set<Listener>();
let me: Me | null = null;
// Only when the server answered a login without setting the session cookie (a server older
// than the cookie session): the token then lives in this tab's memory, never in storage.
let bearer: string | null = null;

function read<T>(storage: Storage, key: string): T | null {
  try {
    const text = storage.getItem(key);
    return text ? (JSON.parse(text) as T) : null;
  } catch {
    return null;
  }
}

function notify() {
  for (const listener of listeners) listener();
}

/** The value of the readable CSRF cookie, when a cookie session exists. */
export function csrfToken(): string | null {
  for (const part of document.cookie.split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === CSRF_COOKIE) return decodeURIComponent(value.join("=")) || null;
  }
  return null;
}

export const session = {
  me: (): Me | null => me,
  bearer: (): string | null => bearer,
  signedIn: (): boolean => me !== null,
  actingFor: (): PublicMember | null => read<PublicMember>(sessionStorage, ACTING_KEY),

  /** After login or sign-up: the API has set the cookies, the answer gives the profile. */
  start(answer: Session) {
    me = answer.member;
    bearer = csrfToken() ? null : answer.token;
    notify();
  },
  refresh(profile: Me) {
    me = profile;
    notify();
  },
  expire() {
    me = null;
    bearer = null;
    sessionStorage.removeItem(ACTING_KEY);
    notify();
  },
  forgetLegacyStorage() {
    for (const key of LEGACY_KEYS) localStorage.removeItem(key);
  },
  actFor(member: PublicMember | null) {
    if (member) sessionStorage.setItem(ACTING_KEY, JSON.stringify(member));
    else sessionStorage.removeItem(ACTING_KEY);
    notify();
  },
  /** The member whose data the member pages show: the one acted for, else oneself. */
  memberId(): string | null {
    return this.actingFor()?.id ?? me?.id ?? null;
  },
  isStaff(): boolean {
    return !!me && (me.staff_site_ids.length > 0 || me.roles.includes("admin"));
  },
  /** The platform's administrator, or an administrator of `community_id` (its links, policy, sites). */
  administers(community_id: string): boolean {
    return !!me && (me.roles.includes("admin") || (me.admin_community_ids ?? []).includes(community_id));
  },
  /** Staff of a site, the platform's administrator or an administrator of a community. */
  mayAdminister(): boolean {
    return this.isStaff() || (me?.admin_community_ids ?? []).length > 0;
  },
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
