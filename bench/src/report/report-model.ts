import type { DatabaseKind } from "../setup/fresh-database.js";
import type { TargetKind } from "../targets/target-spec.js";

/** One measured quantity of a scenario. */
export interface Metric {
  key: string;
  label: string;
  /** Shown after the label, e.g. "ms". */
  unit: string;
  /** Which way is good: decides how a reader takes the ratio. */
  better: "higher" | "lower" | "none";
  /** Decimals shown. @default 1 */
  digits?: number;
}

/** One target's measurements in one scenario. */
export interface RunResult {
  /** Column title, e.g. "Parley SQLite". */
  label: string;
  target: TargetKind;
  database: DatabaseKind | null;
  /** Parley nodes behind this column (fanout with --nodes). @default 1 */
  nodes?: number;
  /** Metric key → value; `null` where it could not be measured (said why in `notes`). */
  figures: Record<string, number | null>;
  /** Everything else worth keeping: steps, errors, parameters. */
  details?: unknown;
  notes?: string[];
}

/** Whether one of the targets is met, on one database. */
export interface GoalCheck {
  goal: string;
  database: DatabaseKind;
  met: boolean;
  measured: string;
}

/** A rendered table: header and rows of cells. */
export interface Table {
  title: string;
  columns: string[];
  rows: string[][];
}

export interface ScenarioReport {
  scenario: string;
  title: string;
  parameters: Record<string, unknown>;
  metrics: Metric[];
  runs: RunResult[];
  /** Parley ÷ relay, per Parley column, per metric. */
  ratios: Record<string, Record<string, number | null>>;
  /** Many nodes ÷ fewer on the same database (fanout with --nodes), per ratio column, per metric. */
  nodeRatios?: Record<string, Record<string, number | null>>;
  checks: GoalCheck[];
  tables: Table[];
  notes: string[];
  elapsedSeconds: number;
}
