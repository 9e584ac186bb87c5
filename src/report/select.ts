// Which events one mail takes, and how a flood is summarised.
//
// A mail takes EVERY pending event of the groups the policy chose (urgent
// events always ride along), up to the newest id pending when it is built. So
// a group that was due is always in the mail it triggered, its hold-off then
// applies, and no mix of pending events can make mails go out back to back.
//
// Up to `max` events (MAX_EVENTS_PER_MAIL) are shown in full. Above that the
// mail is a flood summary: per report group (a log section and file, the
// process events, a kind of file event) the first and the last `show` events
// are shown, with a line saying how many between them are not; every event
// taken counts in the titles and the subject, and is marked mailed (each one
// stays in the database and the JSON log). The pass over a flood reads only
// ids and group keys, in chunks, yielding the event loop between them.
import type { Database } from "bun:sqlite";
import type { EventRow } from "../db/events.ts";
import { yieldToLoop } from "../util/loop.ts";
import type { Group } from "./policy.ts";

/** Shown first and last per report group in a flood summary. */
export const FLOOD_SHOW = 50;
const CHUNK = 10_000;
const MAX_KEYS = 500;

export interface MailEvent extends EventRow {
  /** events of the same report group left out just before this one */
  skippedBefore?: number;
}

export interface Selection {
  events: MailEvent[];
  /** events taken (shown or not) */
  total: number;
  /** the newest id taken: the mail covers the chosen groups' pending events up to it */
  maxId: number;
  flood: boolean;
}

/** The report group an event is shown in (as format.ts groups them). */
export function reportGroupKey(e: Pick<EventRow, "channel" | "kind" | "section" | "subject">): string {
  if (e.channel === "log") return `log\u0000${e.section}\u0000${e.subject}`;
  if (e.channel === "pid") return "pid";
  return `file\u0000${e.kind}`;
}

/**
 * Keeps, per key, the first and last `show` ids seen (ids arrive in
 * increasing order) and how many there were. Keys beyond MAX_KEYS share one
 * bucket, so memory is bounded whatever the flood. Pure.
 */
export class FloodSampler {
  private readonly keys = new Map<string, { first: number[]; last: number[]; count: number }>();
  total = 0;
  constructor(private readonly show: number) {}

  add(id: number, key: string): void {
    this.total++;
    let k = this.keys.get(key);
    if (!k) {
      if (this.keys.size >= MAX_KEYS) key = "\u0000other";
      k = this.keys.get(key);
      if (!k) this.keys.set(key, (k = { first: [], last: [], count: 0 }));
    }
    k.count++;
    if (k.first.length < this.show) k.first.push(id);
    else {
      k.last.push(id);
      if (k.last.length > this.show) k.last.shift();
    }
  }

  /** id -> events of its group left out just before it (0 for most). */
  shown(): Map<number, number> {
    const out = new Map<number, number>();
    for (const k of this.keys.values()) {
      for (const id of k.first) out.set(id, 0);
      const gap = k.count - k.first.length - k.last.length;
      k.last.forEach((id, i) => out.set(id, i === 0 ? gap : 0));
    }
    return out;
  }
}

/** SQL condition for the pending events of a mail for `groups` (urgent events always ride along). */
export function groupsWhere(groups: readonly Group[]): { sql: string; args: string[] } {
  const parts: string[] = [];
  if (groups.includes("file")) parts.push("channel = 'file'");
  if (groups.includes("log")) parts.push("channel = 'pid'", "(channel = 'log' AND kind <> 'violation')");
  if (groups.includes("violation")) parts.push("(channel = 'log' AND kind = 'violation')");
  if (parts.length === 0) return { sql: "mailed IS NULL AND urgent = 1", args: [] };
  return { sql: `mailed IS NULL AND (urgent = 1 OR (urgent = 0 AND (${parts.join(" OR ")})))`, args: [] };
}

export async function selectForMail(db: Database, groups: readonly Group[], max: number, show = FLOOD_SHOW): Promise<Selection> {
  const w = groupsWhere(groups);
  const maxId = (db.query(`SELECT coalesce(max(id), 0) AS m FROM events WHERE ${w.sql}`).get(...w.args) as { m: number }).m;
  const n = (db.query(`SELECT count(*) AS n FROM (SELECT 1 FROM events WHERE ${w.sql} AND id <= ? LIMIT ?)`).get(...w.args, maxId, max + 1) as { n: number }).n;
  if (n <= max) {
    const events = db.query(`SELECT * FROM events WHERE ${w.sql} AND id <= ? ORDER BY id`).all(...w.args, maxId) as MailEvent[];
    return { events, total: events.length, maxId, flood: false };
  }
  const sampler = new FloodSampler(show);
  const page = db.query(`SELECT id, channel, kind, section, subject FROM events WHERE ${w.sql} AND id > ? AND id <= ? ORDER BY id LIMIT ${CHUNK}`);
  let after = 0;
  for (;;) {
    const rows = page.all(...w.args, after, maxId) as Pick<EventRow, "id" | "channel" | "kind" | "section" | "subject">[];
    for (const r of rows) sampler.add(r.id, reportGroupKey(r));
    if (rows.length < CHUNK) break;
    after = rows[rows.length - 1].id;
    await yieldToLoop();
  }
  const shown = sampler.shown();
  const events = db.query("SELECT * FROM events WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id").all(JSON.stringify([...shown.keys()])) as MailEvent[];
  for (const e of events) {
    const gap = shown.get(e.id) ?? 0;
    if (gap > 0) e.skippedBefore = gap;
  }
  return { events, total: sampler.total, maxId, flood: true };
}

/**
 * Mark what a mail took as mailed, in chunks of ids (each its own
 * transaction; `first` runs inside the first one). A crash between chunks
 * leaves the rest unmarked: they are sent again (at least once, never lost).
 */
export async function markMailed(db: Database, groups: readonly Group[], maxId: number, at: number, first: () => void): Promise<void> {
  const w = groupsWhere(groups);
  const upd = db.query(`UPDATE events SET mailed = ? WHERE ${w.sql} AND id > ? AND id <= ?`);
  const lowest = (db.query(`SELECT coalesce(min(id), 1) - 1 AS m FROM events WHERE ${w.sql}`).get(...w.args) as { m: number }).m;
  let lo = Math.min(lowest, maxId);
  let isFirst = true;
  do {
    const hi = Math.min(lo + 20 * CHUNK, maxId);
    db.transaction(() => {
      upd.run(at, ...w.args, lo, hi);
      if (isFirst) first();
    }).immediate();
    isFirst = false;
    lo = hi;
    if (lo < maxId) await yieldToLoop();
  } while (lo < maxId);
}
