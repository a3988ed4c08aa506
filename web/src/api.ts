// The one way the UI talks to the Maillon API: JSON in and out, the session cookie sent by the
// browser (same origin only) with the CSRF token echoed on unsafe methods, problem+json errors
// turned into an ApiError whose field messages the forms show in place.
import { sawAnswer } from "./offline";
import { csrfToken, session } from "./session";

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly fields: FieldError[],
  ) {
    super(detail);
  }
  /** The message for one form field, if the API named it. */
  field(name: string): string | undefined {
    return this.fields.find((f) => f.field === name)?.message;
  }
}

export interface CallOptions {
  body?: unknown;
  /** Staff calls made in the staff's own name even while acting for a member. */
  asSelf?: boolean;
  /**
   * Anything but the browser's session: a one-off bearer token (the kiosk's short login), or ""
   * for an anonymous call. No cookie goes out, and none that the answer sets is kept.
   */
  token?: string;
}

// Requests a person waits for: past this, say so rather than spin forever.
const REQUEST_TIMEOUT_MS = 20_000;

// Plain-French wording for statuses whose problem body says too little to a newcomer.
const STATUS_TEXT: Record<number, string> = {
  0: "Le serveur ne répond pas. Vérifiez votre connexion puis réessayez.",
  401: "Votre session a expiré : reconnectez-vous.",
  403: "Cette action ne vous est pas permise.",
  404: "Élément introuvable.",
  413: "Le contenu envoyé est trop volumineux.",
  429: "Trop de tentatives : patientez une minute puis réessayez.",
  503: "Le service ne répond pas, réessayez dans un instant.",
};

// Methods that change something: the API refuses them by cookie without the CSRF token.
const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function headersFor(method: string, options: CallOptions): Headers {
  const headers = new Headers({ Accept: "application/json" });
  if (options.body !== undefined) headers.set("Content-Type", "application/json");
  const token = options.token ?? session.bearer();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  const csrf = options.token === undefined && UNSAFE_METHODS.has(method) ? csrfToken() : null;
  if (csrf) headers.set("X-CSRF-Token", csrf);
  const acting = session.actingFor();
  if (acting && !options.asSelf && options.token === undefined) headers.set("X-On-Behalf-Of", acting.id);
  return headers;
}

async function toError(response: Response): Promise<ApiError> {
  let problem: { code?: string; detail?: string; title?: string; errors?: FieldError[] } = {};
  try {
    problem = await response.json();
  } catch {
    // A gateway page or an empty body: the status alone speaks.
  }
  const fallback = STATUS_TEXT[response.status] ?? "Une erreur est survenue. Réessayez.";
  // A 401 to someone not signed in (a wrong password, a spent link) is not an expired session:
  // the API's own sentence says what went wrong.
  const own = response.status === 404 || (response.status === 401 && !session.signedIn());
  const detail = response.status in STATUS_TEXT && !own ? fallback : problem.detail ?? fallback;
  return new ApiError(response.status, problem.code ?? "error", detail, problem.errors ?? []);
}

/** An answer's status with its body: a 202 (sent on, not done yet) reads differently from a 200. */
export interface Answered<T> {
  status: number;
  data: T;
}

export async function send<T>(method: string, path: string, options: CallOptions = {}): Promise<Answered<T>> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: headersFor(method, options),
      credentials: options.token === undefined ? "same-origin" : "omit",
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch {
    throw new ApiError(0, "network", STATUS_TEXT[0], []);
  }
  sawAnswer(response.headers.has("X-Maillon-Copy"));
  if (response.status === 401 && options.token === undefined && session.signedIn()) session.expire();
  if (!response.ok) throw await toError(response);
  if (response.status === 204) return { status: 204, data: undefined as T };
  const text = await response.text();
  return { status: response.status, data: (text ? JSON.parse(text) : undefined) as T };
}

export async function call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
  return (await send<T>(method, path, options)).data;
}

export const get = <T>(path: string, options?: CallOptions) => call<T>("GET", path, options);
export const post = <T>(path: string, body?: unknown, options?: CallOptions) =>
  call<T>("POST", path, { ...options, body });
export const patch = <T>(path: string, body: unknown, options?: CallOptions) =>
  call<T>("PATCH", path, { ...options, body });
export const put = <T>(path: string, body: unknown, options?: CallOptions) =>
  call<T>("PUT", path, { ...options, body });
export const del = <T>(path: string, options?: CallOptions) => call<T>("DELETE", path, options);

export interface Photo {
  id: string;
  url: string;
  thumb_url: string;
}

/** Sends one picture to POST /v1/photos (multipart), as the member (never for someone acted for). */
export async function uploadPhoto(file: File): Promise<Photo> {
  const form = new FormData();
  form.append("file", file);
  const headers = new Headers({ Accept: "application/json" });
  const csrf = csrfToken();
  if (csrf) headers.set("X-CSRF-Token", csrf);
  const bearer = session.bearer();
  if (bearer) headers.set("Authorization", `Bearer ${bearer}`);
  let response: Response;
  try {
    response = await fetch("/v1/photos", { method: "POST", headers, body: form, credentials: "same-origin", signal: AbortSignal.timeout(60_000) });
  } catch {
    throw new ApiError(0, "network", STATUS_TEXT[0], []);
  }
  if (response.status === 415) throw new ApiError(415, "unsupported-media-type", "Ce fichier n’est pas une photo (JPEG, PNG, WebP ou HEIC).", []);
  if (!response.ok) throw await toError(response);
  return (await response.json()) as Photo;
}

/** Builds a query string from the defined values only. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
