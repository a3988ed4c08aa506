// Live notifications: the Server-Sent Events of /v1/notifications/stream, read with fetch so
// that any event type is seen and the session goes as it does for every call: the browser's
// HttpOnly cookie (or, against a server without cookie sessions, the in-memory bearer in a
// header). A token never goes in a URL; a server that takes no cookie on the stream gets a
// single-use ticket from POST /v1/notifications/stream-ticket instead. After the server ends a
// stream (its `retry:` hint) or the network drops, we come back, with Last-Event-ID.
import { post } from "./api";
import { session } from "./session";
import type { Notification } from "./types";

type Listener = (fresh: Notification[]) => void;
const listeners = new Set<Listener>();
let following: string | null = null; // the member whose stream is read
let abort: AbortController | null = null;
let lastId = "";

const RETRY_MS_DEFAULT = 3000;
const RETRY_MS_MAX = 60_000;
// Without a stream endpoint, ask the list at this pace instead.
const POLL_MS = 15_000;

interface Block {
  event: Notification | null;
  retry_ms: number | null;
}

function parseBlock(block: string): Block {
  let data = "";
  let retry_ms: number | null = null;
  for (const line of block.split("\n")) {
    if (line.startsWith("id:")) lastId = line.slice(3).trim();
    else if (line.startsWith("data:")) data += line.slice(5).trim();
    else if (line.startsWith("retry:")) retry_ms = Number(line.slice(6).trim()) || null;
  }
  if (!data) return { event: null, retry_ms };
  try {
    return { event: JSON.parse(data) as Notification, retry_ms };
  } catch {
    return { event: null, retry_ms }; // a malformed event: the list page still shows it
  }
}

function emit(events: Notification[]) {
  if (events.length === 0) return;
  for (const listener of listeners) listener(events);
}

function streamHeaders(): Record<string, string> {
  const headers: Record<string, string> = { Accept: "text/event-stream" };
  const bearer = session.bearer();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (lastId) headers["Last-Event-ID"] = lastId;
  return headers;
}

async function openStream(signal: AbortSignal): Promise<Response> {
  const response = await fetch("/v1/notifications/stream", { headers: streamHeaders(), credentials: "same-origin", signal });
  if (response.status !== 401 || !session.signedIn()) return response;
  await response.body?.cancel();
  const { ticket } = await post<{ ticket: string }>("/v1/notifications/stream-ticket", undefined, { asSelf: true });
  const url = `/v1/notifications/stream?ticket=${encodeURIComponent(ticket)}`;
  return fetch(url, { headers: streamHeaders(), credentials: "same-origin", signal });
}

/** Reads one stream to its end; returns how long to wait before the next. */
async function once(signal: AbortSignal): Promise<number> {
  const response = await openStream(signal);
  if (response.status === 404) {
    const list = await fetch("/v1/notifications?limit=20", { headers: streamHeaders(), credentials: "same-origin", signal });
    if (list.ok) emit(((await list.json()) as { items: Notification[] }).items.filter((n) => !n.read));
    return POLL_MS;
  }
  if (!response.ok || !response.body) throw new Error(String(response.status));
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let retry_ms: number | null = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n?/g, "\n");
    const fresh: Notification[] = [];
    for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
      const block = parseBlock(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (block.event) fresh.push(block.event);
      retry_ms = block.retry_ms ?? retry_ms;
    }
    emit(fresh);
  }
  return retry_ms ?? RETRY_MS_DEFAULT;
}

async function loop(member: string, signal: AbortSignal) {
  let failures = 0;
  while (!signal.aborted && following === member) {
    let wait_ms: number;
    try {
      wait_ms = await once(signal);
      failures = 0;
    } catch {
      failures++;
      wait_ms = Math.min(RETRY_MS_MAX, RETRY_MS_DEFAULT * 2 ** failures);
    }
    if (signal.aborted) break;
    await new Promise((resolve) => setTimeout(resolve, wait_ms));
  }
}

/** Follows the signed-in member's notifications; stops when they sign out. */
export function follow() {
  const member = session.me()?.id ?? null;
  if (member === following) return;
  abort?.abort();
  abort = null;
  following = member;
  lastId = "";
  if (!member) return;
  abort = new AbortController();
  void loop(member, abort.signal);
}

session.subscribe(follow);

export function onNotifications(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
