// Who is signed in, and for whom a staff member acts: kept in the browser's storage so a
// reload keeps the session, and announced to the components that draw it.
import type { Me, PublicMember } from "./types";

const TOKEN_KEY = "maillon.token";
const ME_KEY = "maillon.me";
// Acting for someone is per tab: closing the desk's tab ends it, so it is never forgotten on.
const ACTING_KEY = "maillon.acting";

type Listener = () => void;
const listeners = new Set<Listener>();

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

export const session = {
  token: (): string | null => localStorage.getItem(TOKEN_KEY),
  me: (): Me | null => read<Me>(localStorage, ME_KEY),
  actingFor: (): PublicMember | null => read<PublicMember>(sessionStorage, ACTING_KEY),

  start(token: string, me: Me) {
    localStorage.setItem(TOKEN_KEY, token);
    localStorage.setItem(ME_KEY, JSON.stringify(me));
    notify();
  },
  refresh(me: Me) {
    localStorage.setItem(ME_KEY, JSON.stringify(me));
    notify();
  },
  expire() {
    localStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(ME_KEY);
    sessionStorage.removeItem(ACTING_KEY);
    notify();
  },
  actFor(member: PublicMember | null) {
    if (member) sessionStorage.setItem(ACTING_KEY, JSON.stringify(member));
    else sessionStorage.removeItem(ACTING_KEY);
    notify();
  },
  /** The member whose data the member pages show: the one acted for, else oneself. */
  memberId(): string | null {
    return this.actingFor()?.id ?? this.me()?.id ?? null;
  },
  isStaff(): boolean {
    const me = this.me();
    return !!me && (me.staff_site_ids.length > 0 || me.roles.includes("admin"));
  },
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
