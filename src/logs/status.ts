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

export function logStatus(db: Database): LogStatusRow[] {
  let rows: { path: string; offset: number; missing: number; updated: number }[];
  try {
    rows = db.query("SELECT path, dev, ino, offset, size, missing, updated FROM logs ORDER BY path").all() as typeof rows;
  } catch {
    return [];
  }
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
