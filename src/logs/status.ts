// The log follower's status for `--status`: one row per followed log, read from
// the `logs` table (read-only; safe while the daemon runs) plus the current
// size of the file at each path.
import type { Database } from "bun:sqlite";
import { statSync } from "node:fs";

export interface LogStatusRow {
  path: string;
  /** bytes of the followed file already classified */
  offset: number;
  /** current size of the file at the path (null when it does not exist) */
  size: number | null;
  missing: boolean;
  /** time of the last state change (ms) */
  updated: number;
}

/** Throws what SQLite throws (a database without the table, say); the caller shows "unknown". */
export function logStatus(db: Database): LogStatusRow[] {
  const rows = db.query("SELECT path, offset, missing, updated FROM logs ORDER BY path").all() as { path: string; offset: number; missing: number; updated: number }[];
  return rows.map((r) => {
    let size: number | null = null;
    try {
      size = statSync(r.path).size;
    } catch {
      /* does not exist (or cannot be seen) */
    }
    return { path: r.path, offset: r.offset, size, missing: r.missing !== 0, updated: r.updated };
  });
}
