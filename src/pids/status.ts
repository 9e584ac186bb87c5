// The PID watcher's own status, for `--status`: one row per watched PID file
// (read-only; safe while the daemon runs).
import type { Database } from "bun:sqlite";
import { showPath } from "./proc.ts";

export interface PidStatusRow {
  pidfile: string; // printable
  pid: number | null;
  name: string | null;
  state: string;
  since: number; // ms since the epoch
  detail: string;
}

/** The watched PID files and their state, for `--status`. */
export function pidStatus(db: Database): PidStatusRow[] {
  const rows = db.query("SELECT pidfile, filepid, pid, name, state, since, detail FROM pids ORDER BY pidfile").all() as {
    pidfile: string; filepid: number | null; pid: number | null; name: string | null; state: string; since: number; detail: string;
  }[];
  return rows.map((r) => ({
    pidfile: showPath(r.pidfile),
    pid: r.filepid ?? r.pid,
    name: r.filepid === r.pid ? r.name : null,
    state: r.state,
    since: r.since,
    detail: r.detail,
  }));
}
