// Figures for the collectivité: kilograms reused and redirected, hours exchanged and active
// members, per site and per month, drawn as bars with the same numbers in a table, and the
// open-data CSV link.
import { useState } from "preact/hooks";
import { get, query } from "../api";
import { sites } from "../catalog";
import type { Site, SmallCount, Stats } from "../types";
import { Alert, Field, Loading, PageTitle, useLoad } from "../ui";

const MONTHS_SHOWN = 6;

interface Period {
  label: string;
  from: string;
  to: string;
}

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function lastMonths(count: number, today = new Date()): Period[] {
  const periods: Period[] = [];
  for (let back = count - 1; back >= 0; back--) {
    const start = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - back, 1));
    const end = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 0));
    const label = start.toLocaleDateString("fr-FR", { month: "short", year: "2-digit", timeZone: "UTC" });
    periods.push({ label, from: isoDay(start), to: isoDay(end) });
  }
  return periods;
}

interface Row {
  label: string;
  stats: Stats;
}

interface Figures {
  total: Stats;
  months: Row[];
  bySite: Row[];
  from: string;
  to: string;
}

async function loadFigures(community: string, communitySites: Site[]): Promise<Figures> {
  const months = lastMonths(MONTHS_SHOWN);
  const from = months[0].from;
  const to = months[months.length - 1].to;
  const stats = (params: Record<string, string>) =>
    get<Stats>(`/v1/stats${query({ community_id: community, ...params })}`, { token: "" });
  const [total, monthStats, siteStats] = await Promise.all([
    stats({ from, to }),
    Promise.all(months.map((m) => stats({ from: m.from, to: m.to }))),
    Promise.all(communitySites.map((s) => stats({ site_id: s.id, from, to }))),
  ]);
  return {
    total,
    from,
    to,
    months: months.map((m, i) => ({ label: m.label, stats: monthStats[i] })),
    bySite: communitySites.map((s, i) => ({ label: s.name, stats: siteStats[i] })),
  };
}

const kg = (n: number) => `${n.toLocaleString("fr-FR", { maximumFractionDigits: 1 })} kg`;
const hours = (minutes: number) => `${(minutes / 60).toLocaleString("fr-FR", { maximumFractionDigits: 1 })} h`;
// The API hides counts below 5 ("<5"): said in words, drawn as an empty bar.
const count = (n: SmallCount) => (typeof n === "number" ? n.toLocaleString("fr-FR") : "moins de 5");

interface Measure {
  title: string;
  value: (s: Stats) => SmallCount;
  format: (n: SmallCount) => string;
}

const numeric = (n: SmallCount) => (typeof n === "number" ? n : 0);
const measured = (format: (n: number) => string) => (n: SmallCount) => format(numeric(n));

const MEASURES: Measure[] = [
  { title: "Kilogrammes réemployés", value: (s) => s.kg_reused, format: measured(kg) },
  { title: "Kilogrammes réorientés", value: (s) => s.kg_redirected, format: measured(kg) },
  { title: "Heures échangées", value: (s) => s.minutes_exchanged, format: measured(hours) },
  { title: "Membres actifs", value: (s) => s.active_members, format: count },
];

/** Horizontal bars in SVG, one per table row, the number written beside each bar: readable
 *  at 360 px, and the table is what screen readers read. */
function Bars({ rows, measure, caption }: { rows: Row[]; measure: Measure; caption: string }) {
  const values = rows.map((r) => measure.value(r.stats));
  const max = Math.max(1, ...values.map(numeric));
  return (
    <figure class="chart">
      <figcaption>{caption}</figcaption>
      <table class="chart-table">
        <caption class="sr-only">{caption}</caption>
        <tbody>
          {rows.map((r, i) => (
            <tr key={r.label}>
              <th scope="row">{r.label}</th>
              <td class="chart-bar">
                <svg width="100%" height="18" aria-hidden="true" focusable="false">
                  <rect x="0" y="1" height="16" width={`${Math.max(0.5, (numeric(values[i]) / max) * 100)}%`} fill="#1e5631" />
                </svg>
              </td>
              <td>{measure.format(values[i])}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

function communitiesOf(all: Site[]): { id: string; label: string; sites: Site[] }[] {
  const groups = new Map<string, Site[]>();
  for (const s of all) groups.set(s.community_id, [...(groups.get(s.community_id) ?? []), s]);
  return [...groups.entries()].map(([id, list]) => ({
    id,
    label: `Réseau de ${list.map((s) => s.address).filter((a, i, arr) => a && arr.indexOf(a) === i).slice(0, 3).join(", ")}`,
    sites: list,
  }));
}

export function FiguresPage() {
  const all = useLoad(sites, []);
  const groups = communitiesOf(all.data ?? []);
  const [chosen, setChosen] = useState(() => new URL(location.href).searchParams.get("community") ?? "");
  const group = groups.find((g) => g.id === chosen) ?? groups[0];
  const figures = useLoad(async () => (group ? loadFigures(group.id, group.sites) : undefined), [group?.id]);
  const f = figures.data;
  return (
    <>
      <PageTitle>Les chiffres de Maillon</PageTitle>
      <Alert error={all.error ?? figures.error} />
      {groups.length > 1 && (
        <Field label="Réseau">
          {(p) => (
            <select {...p} value={group?.id} onChange={(e) => setChosen(e.currentTarget.value)}>
              {groups.map((g) => <option key={g.id} value={g.id}>{g.label}</option>)}
            </select>
          )}
        </Field>
      )}
      <Loading when={(all.loading || figures.loading) && !f}>
        {f && group && (
          <>
            <section aria-labelledby="titre-total">
              <h2 id="titre-total">Sur les {MONTHS_SHOWN} derniers mois</h2>
              <dl class="totals">
                {MEASURES.map((m) => (
                  <div key={m.title}>
                    <dt>{m.title}</dt>
                    <dd>{m.format(m.value(f.total))}</dd>
                  </div>
                ))}
                <div>
                  <dt>Échanges terminés</dt>
                  <dd>{count(f.total.exchanges_completed)}</dd>
                </div>
                <div>
                  <dt>Prêts d’objets</dt>
                  <dd>{count(f.total.loans)}</dd>
                </div>
              </dl>
              <p>
                <a class="button button--light" href={`/v1/stats/export.csv${query({ community_id: group.id, from: f.from, to: f.to })}`} download>
                  Télécharger les données (CSV, par lieu et par jour)
                </a>
              </p>
            </section>
            <section aria-labelledby="titre-mois">
              <h2 id="titre-mois">Par mois</h2>
              <div class="charts">
                {MEASURES.map((m) => <Bars key={m.title} rows={f.months} measure={m} caption={`${m.title} par mois`} />)}
              </div>
            </section>
            <section aria-labelledby="titre-lieux">
              <h2 id="titre-lieux">Par lieu</h2>
              <div class="charts">
                {MEASURES.map((m) => <Bars key={m.title} rows={f.bySite} measure={m} caption={`${m.title} par lieu`} />)}
              </div>
            </section>
          </>
        )}
      </Loading>
    </>
  );
}
