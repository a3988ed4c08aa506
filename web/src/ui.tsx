// Small building blocks shared by the pages: labelled fields that show the API's message for
// them, an alert for the rest, loading state, and the French wording of minutes and distances.
import type { ComponentChildren, JSX } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api";

let nextId = 0;
/** A stable id for label/description wiring. */
export function useId(prefix: string): string {
  const ref = useRef<string>();
  if (!ref.current) ref.current = `${prefix}-${++nextId}`;
  return ref.current;
}

interface FieldProps {
  label: string;
  error?: string;
  hint?: string;
  children: (props: { id: string; "aria-invalid"?: "true"; "aria-describedby"?: string }) => JSX.Element;
}

/** A label, the control, an optional hint and the field's error right under it. */
export function Field({ label, error, hint, children }: FieldProps) {
  const id = useId("champ");
  const described = [hint ? `${id}-aide` : "", error ? `${id}-erreur` : ""].filter(Boolean).join(" ");
  return (
    <div class={error ? "field field--error" : "field"}>
      <label for={id}>{label}</label>
      {hint && (
        <p class="hint" id={`${id}-aide`}>
          {hint}
        </p>
      )}
      {children({ id, "aria-invalid": error ? "true" : undefined, "aria-describedby": described || undefined })}
      {error && (
        <p class="field-error" id={`${id}-erreur`}>
          {error}
        </p>
      )}
    </div>
  );
}

interface ChoiceFieldProps {
  label: string;
  hint?: string;
  error?: string;
  value: string | undefined;
  onChange: (value: string) => void;
  choices: { id: string; label: string }[];
  /** A first, empty choice (nothing chosen yet), when given. */
  placeholder?: string;
}

/** A Field whose control is a list of choices, each named by its label and sent by its id. */
export function ChoiceField({ label, hint, error, value, onChange, choices, placeholder }: ChoiceFieldProps) {
  return (
    <Field label={label} hint={hint} error={error}>
      {(p) => (
        <select {...p} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
          {placeholder !== undefined && <option value="">{placeholder}</option>}
          {choices.map((c) => (
            <option key={c.id} value={c.id}>
              {c.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/** The error of a whole action, read out by screen readers when it appears. */
export function Alert({ error }: { error: unknown }) {
  if (!error) return null;
  const text = error instanceof ApiError ? error.detail : "Une erreur est survenue. Réessayez.";
  const fields = error instanceof ApiError && error.fields.length > 0;
  return (
    <p class="alert" role="alert">
      {text}
      {fields ? " Corrigez les champs signalés." : ""}
    </p>
  );
}

export function Notice({ children }: { children: ComponentChildren }) {
  return (
    <p class="notice" role="status">
      {children}
    </p>
  );
}

/** The host of a partner installation's address, as members know it ("maillon.exemple.fr"). */
export function partnerHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** Field message from an API error, for fields named `name` (or any of `names`). */
export function fieldError(error: unknown, ...names: string[]): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  for (const name of names) {
    const message = error.field(name);
    if (message) return message;
  }
  return undefined;
}

/** Loads data, reloads on demand or when `deps` change; errors are kept to be shown. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const reload = useCallback(async () => {
    setLoading(true);
    try {
      setData(await load());
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, loading, reload, setData };
}

/** Runs an action once at a time, keeping its error for display. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, setError };
}

export function Loading({ when, children }: { when: boolean; children?: ComponentChildren }) {
  if (!when) return <>{children}</>;
  return (
    <p class="loading" role="status">
      Chargement…
    </p>
  );
}

/** 90 → "1 h 30", -45 → "-45 min": credits are whole minutes. */
export function formatMinutes(minutes: number): string {
  const sign = minutes < 0 ? "-" : "";
  const total = Math.abs(Math.trunc(minutes));
  const hours = Math.floor(total / 60);
  const rest = total % 60;
  if (hours === 0) return `${sign}${rest} min`;
  return rest === 0 ? `${sign}${hours} h` : `${sign}${hours} h ${String(rest).padStart(2, "0")}`;
}

export function formatDistance(distance_m: number): string {
  if (distance_m < 1000) return `à ${distance_m} m`;
  return `à ${(distance_m / 1000).toLocaleString("fr-FR", { maximumFractionDigits: 1 })} km`;
}

/** A day without the hour: "12 déc. 2026". */
export function formatDay(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleDateString("fr-FR", { dateStyle: "medium" });
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString("fr-FR", { dateStyle: "medium", timeStyle: "short" });
}

export const MODE_LABEL: Record<string, string> = {
  give: "Don",
  lend: "Prêt",
  swap: "Troc",
  service: "Service",
};

export const CONDITION_LABEL: Record<string, string> = {
  new: "Neuf",
  good: "Bon état",
  fair: "État correct",
  for_parts: "Pour pièces",
};

export const STATE_LABEL: Record<string, string> = {
  proposed: "Proposé",
  accepting: "Acceptation en cours",
  accepted: "Accepté",
  completing: "Paiement en cours",
  completed: "Terminé",
  declined: "Refusé",
  cancelled: "Annulé",
  expired: "Expiré",
  disputed: "Litige",
  resolved: "Litige réglé",
  handed_over: "Objet remis",
  late: "En retard",
  lost: "Perdu ou abîmé",
};

export const STATUS_LABEL: Record<string, string> = {
  active: "Active",
  paused: "En pause",
  reserved: "Réservée",
  closed: "Clôturée",
  expired: "Expirée",
  available: "Disponible",
  collected: "Remis",
  on_loan: "En prêt",
  redirected: "Réorienté",
};

/** Moves focus to the page's heading after navigation, so screen readers announce it. */
export function PageTitle({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus({ preventScroll: true });
    const text = ref.current?.textContent;
    if (text) document.title = `${text} — Maillon`;
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

/**
 * A button whose action cannot be undone: the first click asks, in the page (no dialog box),
 * and only "Oui" acts. Focus goes to the question's answer so a keyboard user is not lost.
 */
export function ConfirmButton({
  label,
  question,
  yes,
  onConfirm,
  ariaLabel,
  disabled,
  danger = true,
}: {
  label: string;
  question: string;
  yes: string;
  onConfirm: () => void;
  ariaLabel?: string;
  disabled?: boolean;
  danger?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const yesRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) yesRef.current?.focus();
  }, [asking]);
  if (!asking) {
    return (
      <button type="button" class={danger ? "button button--danger" : "button button--light"} disabled={disabled} aria-label={ariaLabel} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <div class="confirm" role="group" aria-label={question}>
      <p>{question}</p>
      <div class="row">
        <button
          ref={yesRef}
          type="button"
          class="button button--danger"
          onClick={() => {
            setAsking(false);
            onConfirm();
          }}
        >
          {yes}
        </button>
        <button type="button" class="button button--light" onClick={() => setAsking(false)}>
          Non, revenir
        </button>
      </div>
    </div>
  );
}

/** The member's number as shown to people (short per-community number, else the id). */
export function memberNumber(member: { id: string; member_number?: number | null }): string {
  return member.member_number ? String(member.member_number) : member.id;
}
