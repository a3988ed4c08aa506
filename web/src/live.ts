// Live notifications. EventSource cannot send the Authorization header and a token never goes
// in a URL, so this reads the same Server-Sent Events stream with fetch: the server sends what
// is new since Last-Event-ID, then ends with a `retry:` hint, and we come back after it.
import { session } from "./session";
import type { Notification } from "./types";

type Listener = (fresh: Notification[]) => void;
const listeners = new Set<Listener>();
let running = false;
let lastId = "";
let stopToken: string | null = null;

const RETRY_MS_DEFAULT = 3000;
const RETRY_MS_MAX = 60_000;
// Without a stream endpoint, ask the list at this pace instead.
const POLL_MS = 15_000;

function parse(text: string): { events: Notification[]; retry_ms: number | null } {
  const events: Notification[] = [];
  let retry_ms: number | null = null;
  for (const block of text.split(/\n\n/)) {
    let data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith("id:")) lastId = line.slice(3).trim();
      else if (line.startsWith("data:")) data += line.slice(5).trim();
      else if (line.startsWith("retry:")) retry_ms = Number(line.slice(6).trim()) || null;
    }
    if (data) {
      try {
        events.push(JSON.parse(data) as Notification);
      } catch {
        // A malformed event is skipped; the list page still shows it from the API.
      }
    }
  }
  return { events, retry_ms };
}

async function once(token: string): Promise<number> {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: "text/event-stream" };
  if (lastId) headers["Last-Event-ID"] = lastId;
  const response = await fetch("/v1/notifications/stream", { headers });
  if (response.status === 404) {
    const list = await fetch("/v1/notifications?limit=20", { headers: { Authorization: `Bearer ${token}` } });
    if (list.ok) emit(((await list.json()) as { items: Notification[] }).items.filter((n) => !n.read));
    return POLL_MS;
  }
  if (!response.ok) throw new Error(String(response.status));
  const { events, retry_ms } = parse(await response.text());
  if (events.length > 0) emit(events);
  return retry_ms ?? RETRY_MS_DEFAULT;
}

function emit(events: Notification[]) {
  for (const listener of listeners) listener(events);
}

async function loop() {
  let failures = 0;
  while (running) {
    const token = session.token();
    if (!token || token !== stopToken) break;
    let wait_ms: number;
    try {
      wait_ms = await once(token);
      failures = 0;
    } catch {
      failures++;
      wait_ms = Math.min(RETRY_MS_MAX, RETRY_MS_DEFAULT * 2 ** failures);
    }
    await new Promise((resolve) => setTimeout(resolve, wait_ms));
  }
  running = false;
}

/** Starts following the signed-in member's notifications (once per token). */
export function follow() {
  const token = session.token();
  if (!token || (running && stopToken === token)) return;
  stopToken = token;
  lastId = "";
  running = true;
  void loop();
}

export function onNotifications(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
