// The installable app: registers the service worker (public/sw.js) that keeps the shell and the
// member's own recent data readable offline, and tells it to forget that data when the member
// signs out or another signs in. `useOnline` says whether the browser thinks it is connected.
import { useEffect, useState } from "preact/hooks";
import { session } from "./session";

let lastMember: string | null | undefined;
// Whether the last API answer was the service worker's copy (the network was out of reach).
let fromCopy = false;
const copyListeners = new Set<() => void>();

/** Called by the API wrapper with each answer: a copy, or the network's. */
export function sawAnswer(copy: boolean) {
  if (copy === fromCopy) return;
  fromCopy = copy;
  for (const listener of copyListeners) listener();
}

function forgetData() {
  navigator.serviceWorker?.controller?.postMessage("forget-data");
}

export function startOffline() {
  if (!("serviceWorker" in navigator)) return;
  // After the page has loaded: the worker's own downloads never delay the first paint.
  const register = () => void navigator.serviceWorker.register("/sw.js").catch(() => undefined);
  if (document.readyState === "complete") register();
  else addEventListener("load", register, { once: true });
  lastMember = session.me()?.id ?? null;
  session.subscribe(() => {
    const member = session.me()?.id ?? null;
    // Offline, the kept profile is what signs the member in again: only a real change counts.
    if (lastMember !== undefined && member !== lastMember && navigator.onLine) forgetData();
    lastMember = member;
  });
}

/** False when the browser says it is offline or the API's answers come from the kept copy. */
export function useOnline(): boolean {
  const [online, setOnline] = useState(navigator.onLine && !fromCopy);
  useEffect(() => {
    const update = () => setOnline(navigator.onLine && !fromCopy);
    update();
    addEventListener("online", update);
    addEventListener("offline", update);
    copyListeners.add(update);
    return () => {
      removeEventListener("online", update);
      removeEventListener("offline", update);
      copyListeners.delete(update);
    };
  }, []);
  return online;
}
