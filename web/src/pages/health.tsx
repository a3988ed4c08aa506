// "Santé du réseau": the figures of GET /v1/admin/health (outbox lag, consumers, dead letters,
// stuck sagas, errors and latency per service), grouped by what they watch, each with its status
// written out in words (never told by colour alone) and the thresholds it is held to.
import { get } from "../api";
import { session } from "../session";
import { Alert, Loading, PageTitle, useLoad } from "../ui";
import "./health.css";

type HealthStatus = "ok" | "warn" | "critical";

interface HealthFigure {
  kind: string;
  subject: string;
  value: number;
  unit: string;
  warn_at: number;
  critical_at: number;
  status: HealthStatus;
  detail?: string;
}

interface NetworkHealth {
  status: HealthStatus;
  checked_at: string;
  figures: HealthFigure[];
}

const STATUS_LABEL: Record<HealthStatus, string> = { ok: "Normal", warn: "À surveiller", critical: "Critique" };

// The sections of the page, in this order; a kind the page does not know goes to "Autres".
const GROUPS: { title: string; kinds: Record<string, string> }[] = [
  {
    title: "Services",
    kinds: {
      service_unreachable: "Instances muettes",
      http_5xx_ratio: "Part d’erreurs 5xx",
      http_latency_p95_seconds: "Temps de réponse (95 %)",
      database_unreachable: "Base de données injoignable",
      redis_unreachable: "Redis injoignable",
    },
  },
  { title: "Publication des événements (outbox)", kinds: { outbox_lag_seconds: "Retard de publication" } },
  {
    title: "Consommateurs des flux",
    kinds: { consumer_lag: "Événements non lus", consumer_pending: "Événements non acquittés" },
  },
  { title: "Lettres mortes", kinds: { dead_letters: "Événements mis de côté" } },
  { title: "Échanges en attente du grand livre", kinds: { sagas_stuck: "Bloqués au-delà du délai" } },
];

function formatValue(value: number, unit: string): string {
  const n = (x: number, digits = 0) => x.toLocaleString("fr-FR", { maximumFractionDigits: digits });
  switch (unit) {
    case "seconds":
      return value < 10 ? `${n(value, 3)} s` : `${n(value)} s`;
    case "ratio":
      return `${n(value * 100, 2)} %`;
    default:
      return n(value);
  }
}

function kindLabel(kind: string): string {
  for (const g of GROUPS) if (kind in g.kinds) return g.kinds[kind];
  return kind;
}

function StatusBadge({ status }: { status: HealthStatus }) {
  return <span class={`badge health-${status}`}>{STATUS_LABEL[status]}</span>;
}

function FigureTable({ id, title, figures }: { id: string; title: string; figures: HealthFigure[] }) {
  if (figures.length === 0) return null;
  const worst = figures.some((f) => f.status === "critical") ? "critical" : figures.some((f) => f.status === "warn") ? "warn" : "ok";
  return (
    <section class="card health-group" aria-labelledby={id}>
      <h2 id={id}>
        {title} <StatusBadge status={worst} />
      </h2>
      <div class="table-wrap" tabIndex={0} role="group" aria-label={`Tableau : ${title}`}>
        <table>
          <thead>
            <tr>
              <th scope="col">Mesure</th>
              <th scope="col">Sujet</th>
              <th scope="col">Valeur</th>
              <th scope="col">Seuils (attention / critique)</th>
              <th scope="col">État</th>
            </tr>
          </thead>
          <tbody>
            {figures.map((f) => (
              <tr key={`${f.kind}:${f.subject}`} data-kind={f.kind} data-status={f.status}>
                <th scope="row">{kindLabel(f.kind)}</th>
                <td>
                  <code>{f.subject}</code>
                  {f.detail && <div class="hint">{f.detail}</div>}
                </td>
                <td>{formatValue(f.value, f.unit)}</td>
                <td>
                  {formatValue(f.warn_at, f.unit)} / {formatValue(f.critical_at, f.unit)}
                </td>
                <td>
                  <StatusBadge status={f.status} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function HealthPage() {
  const admin = session.me()?.roles.includes("admin") ?? false;
  const health = useLoad(async () => (admin ? get<NetworkHealth>("/v1/admin/health") : null), [admin]);
  if (!admin) {
    return (
      <>
        <PageTitle>Santé du réseau</PageTitle>
        <p>Cette page est réservée aux administrateurs du réseau.</p>
      </>
    );
  }
  const h = health.data;
  const known = new Set(GROUPS.flatMap((g) => Object.keys(g.kinds)));
  const others = h?.figures.filter((f) => !known.has(f.kind)) ?? [];
  return (
    <>
      <PageTitle>Santé du réseau</PageTitle>
      <p class="hint">
        Les mesures que surveillent les alertes : chaque ligne dit son état et les seuils auxquels elle passe « à surveiller » puis « critique ».
      </p>
      <Alert error={health.error} />
      <Loading when={health.loading && !h}>
        {h && (
          <>
            <p class="health-summary" role="status">
              État général : <StatusBadge status={h.status} /> — relevé le{" "}
              <time dateTime={h.checked_at}>{new Date(h.checked_at).toLocaleString("fr-FR", { dateStyle: "short", timeStyle: "medium" })}</time>
            </p>
            <button type="button" class="button button--light" onClick={() => void health.reload()} disabled={health.loading}>
              Actualiser
            </button>
            {GROUPS.map((g, i) => (
              <FigureTable key={g.title} id={`health-group-${i}`} title={g.title} figures={h.figures.filter((f) => f.kind in g.kinds)} />
            ))}
            <FigureTable id="health-group-others" title="Autres" figures={others} />
          </>
        )}
      </Loading>
    </>
  );
}
