import type { DialectName } from "../database.js";

/** Column types that differ between the two databases; the schema is written once against these. */
export interface ColumnTypes {
  json: "text" | "jsonb";
  timestamp: "text" | "timestamptz";
  bigint: "integer" | "bigint";
}

export function columnTypes(dialect: DialectName): ColumnTypes {
  return dialect === "postgres"
    ? { json: "jsonb", timestamp: "timestamptz", bigint: "bigint" }
    : { json: "text", timestamp: "text", bigint: "integer" };
}
