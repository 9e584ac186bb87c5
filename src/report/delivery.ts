// The report module's own status, for `--status`: what waits in the queue,
// the last mail sent, the last delivery error, and how far each append-only
// sink is behind. Read-only; safe while the daemon runs. The tables read here
// (events, mails, the sinks' cursors in meta) are the report module's own.
import type { Database } from "bun:sqlite";
import { getCursor } from "./sinks.ts";

export interface DeliveryStatus {
  /** events not yet mailed, per channel */
  pending: { file: number; log: number; pid: number; total: number; oldest?: number };
  lastSent?: { time: number; events: number; note: string };
  lastError?: { time: number; error: string; failedSinceSuccess: number };
  /** events after each durable sink's cursor */
  behind: Record<string, number>;
}

/** sinks: the names of the durable sinks to report on (jsonlog, syslog). */
export function deliveryStatus(db: Database, sinks: readonly string[]): DeliveryStatus {
  const pend = db.query("SELECT channel, count(*) AS n, min(time) AS oldest FROM events WHERE mailed IS NULL GROUP BY channel").all() as {
    channel: string; n: number; oldest: number;
  }[];
  const by = new Map(pend.map((r) => [r.channel, r.n]));
  const out: DeliveryStatus = {
    pending: {
      file: by.get("file") ?? 0,
      log: by.get("log") ?? 0,
      pid: by.get("pid") ?? 0,
      total: pend.reduce((s, r) => s + r.n, 0),
      oldest: pend.length ? Math.min(...pend.map((r) => Number(r.oldest))) : undefined,
    },
    behind: {},
  };
  const ok = db.query("SELECT time, events, error FROM mails WHERE ok = 1 ORDER BY id DESC LIMIT 1").get() as { time: number; events: number; error: string } | null;
  if (ok) out.lastSent = { time: ok.time, events: ok.events, note: ok.error };
  const err = db.query("SELECT time, error FROM mails WHERE ok = 0 ORDER BY id DESC LIMIT 1").get() as { time: number; error: string } | null;
  if (err) {
    const streak = db.query("SELECT count(*) AS n FROM mails WHERE ok = 0 AND id > coalesce((SELECT max(id) FROM mails WHERE ok = 1), 0)").get() as { n: number };
    out.lastError = { time: err.time, error: err.error, failedSinceSuccess: streak.n };
  }
  for (const name of sinks) {
    const n = db.query("SELECT count(*) AS n FROM events WHERE id > ?").get(getCursor(db, name)) as { n: number };
    out.behind[name] = n.n;
  }
  return out;
}
