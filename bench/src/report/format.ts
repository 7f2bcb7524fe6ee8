import type { Metric, RunResult, Table } from "./report-model.js";

/** A number for a table cell: thousands separated, `digits` decimals; "–" when missing. */
export function fmt(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Parley ÷ relay; `null` when either is missing or the relay's is zero. */
export function ratio(parley: number | null | undefined, relay: number | null | undefined): number | null {
  if (parley === null || parley === undefined || relay === null || relay === undefined) return null;
  if (!Number.isFinite(parley) || !Number.isFinite(relay) || relay === 0) return null;
  return parley / relay;
}

/** Parley ÷ relay for every metric of every Parley run. */
export function ratiosOf(metrics: Metric[], runs: RunResult[]): Record<string, Record<string, number | null>> {
  const relay = runs.find((r) => r.target === "relay");
  const out: Record<string, Record<string, number | null>> = {};
  for (const run of runs) {
    if (run.target !== "parley") continue;
    const row: Record<string, number | null> = {};
    for (const m of metrics) row[m.key] = relay ? ratio(run.figures[m.key], relay.figures[m.key]) : null;
    out[run.label] = row;
  }
  return out;
}

/** A ratio column between two runs of the same scenario (e.g. 3 nodes ÷ 1 node). */
export interface RatioColumn {
  label: string;
  of: RunResult;
  to: RunResult;
}

/** Every metric of `of` ÷ `to`, per column. */
export function ratioColumns(metrics: Metric[], columns: RatioColumn[]): Record<string, Record<string, number | null>> {
  const out: Record<string, Record<string, number | null>> = {};
  for (const c of columns) {
    const row: Record<string, number | null> = {};
    for (const m of metrics) row[m.key] = ratio(c.of.figures[m.key], c.to.figures[m.key]);
    out[c.label] = row;
  }
  return out;
}

/**
 * Metric rows with a column per run, then a "÷ relay" column per Parley
 * run: the figure to compare on a noisy machine; then any `extra` ratio
 * columns.
 */
export function comparisonTable(title: string, metrics: Metric[], runs: RunResult[], extra: RatioColumn[] = []): Table {
  const parley = runs.filter((r) => r.target === "parley");
  const relay = runs.find((r) => r.target === "relay");
  const ordered = [...parley, ...(relay ? [relay] : [])];
  const columns = [
    "metric",
    ...ordered.map((r) => r.label),
    ...(relay ? parley.map((r) => `${r.label} ÷ relay`) : []),
    ...extra.map((c) => c.label),
  ];
  const rows = metrics.map((m) => {
    const label = m.unit ? `${m.label} (${m.unit})` : m.label;
    const cells = ordered.map((r) => fmt(r.figures[m.key], m.digits ?? 1));
    const ratios = relay ? parley.map((r) => fmt(ratio(r.figures[m.key], relay.figures[m.key]), 2)) : [];
    const more = extra.map((c) => fmt(ratio(c.of.figures[m.key], c.to.figures[m.key]), 2));
    return [label, ...cells, ...ratios, ...more];
  });
  return { title, columns, rows };
}

/** GitHub-flavoured markdown for a table. */
export function markdown(table: Table): string {
  const line = (cells: string[]) => `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`;
  const align = table.columns.map((_, i) => (i === 0 ? "---" : "---:"));
  return [`**${table.title}**`, "", line(table.columns), line(align), ...table.rows.map(line)].join("\n");
}

export const KB = 1024;
export const MB = 1024 * 1024;
