// The journal sources' status for `--status`: one row per source, read from
// the `journals` table (read-only; safe while the daemon runs), with its lag:
// the journal's newest entry now (journalctl --lines=1, run once per source
// with a time limit) against the cursor stored.
import type { Database } from "bun:sqlite";
import type { JournalSpec } from "../../config/journal.ts";
import { parseCursor } from "./cursor.ts";
import { ExportParser } from "./export.ts";
import { lastEntryArgs } from "./reader.ts";
import { realtimeUs } from "./render.ts";

export interface JournalStatusRow {
  source: string;
  /** the stored cursor ("" : none yet) */
  cursor: string;
  /** time of the entry at the cursor (ms; 0: none) */
  at: number;
  entries: number;
  /** the problem last noticed ("" : none) */
  problem: string;
  updated: number;
  /** entries behind the journal's newest (null: not known; with match filters, at most this many) */
  lagEntries: number | null;
  /** seconds between the entry at the cursor and the newest (null: not known) */
  lagSeconds: number | null;
}

/** The newest entry of `spec` now, or null (empty, unreadable, or too slow). */
function newest(spec: JournalSpec): { cursor: string; realtime: number } | null {
  try {
    const r = Bun.spawnSync(lastEntryArgs(spec), { stdin: "ignore", stderr: "ignore", timeout: 5000, env: { LC_ALL: "C", PATH: "/usr/bin:/bin" } });
    if (r.exitCode !== 0) return null;
    const entries = new ExportParser().push(r.stdout);
    const e = entries[entries.length - 1];
    const c = e?.text("__CURSOR");
    return e && c ? { cursor: c, realtime: realtimeUs(e) } : null;
  } catch {
    return null;
  }
}

/** Throws what SQLite throws (no table): the caller shows "unknown". `specs`: the configured sources (for the lag). */
export function journalStatus(db: Database, specs: readonly JournalSpec[]): JournalStatusRow[] {
  const rows = db.query("SELECT source, cursor, realtime, entries, problem, updated FROM journals ORDER BY source").all() as {
    source: string; cursor: string; realtime: number; entries: number; problem: string; updated: number;
  }[];
  return rows.map((r) => {
    const spec = specs.find((s) => s.source === r.source);
    let lagEntries: number | null = null;
    let lagSeconds: number | null = null;
    const now = spec ? newest(spec) : null;
    if (now !== null) {
      const a = parseCursor(r.cursor);
      const b = parseCursor(now.cursor);
      if (now.cursor === r.cursor) lagEntries = 0;
      else if (a && b && a.s === b.s && b.i >= a.i) lagEntries = b.i - a.i;
      if (r.realtime > 0) lagSeconds = Math.max(0, (now.realtime - r.realtime) / 1e6);
    }
    return { source: r.source, cursor: r.cursor, at: Math.floor(r.realtime / 1000), entries: r.entries, problem: r.problem, updated: r.updated, lagEntries, lagSeconds };
  });
}
