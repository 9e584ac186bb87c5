// The `logs` table: one row per followed log, and the events queued with it.
//
// Durability contract. A row holds the file being followed (dev, inode), the
// byte offset of the first line not yet classified, two fingerprints (the
// file's first bytes, and its last bytes before the offset), its owner and
// whether we are inside an over-long line. `saveLog` writes
// the row in the SAME transaction as the events queued for the lines before
// the new offset (and any notice about the change), so after kill -9 at any
// point no line is lost and none is queued twice: either both are stored or
// neither, and the next start reads again from the stored offset.
//
// Events queued here: channel "log"; a line's events (`lineEvents`, kind
// alert|violation|system, one per report section the line is placed in) and
// the follower's notices (`noticeEvent`, kind notice, section NOTICE_SECTION).
import type { Database } from "bun:sqlite";
import { enqueue } from "../db/events.ts";
import { escapeString } from "../util/escape.ts";

/** Section title of the follower's own notices (missing log, truncation, rule problems). */
export const NOTICE_SECTION = "Log Monitoring Notices";

export interface LogRow {
  path: string;
  dev: number;
  /** 0: no file followed (missing) */
  ino: number;
  offset: number;
  size: number;
  fingerprint: Uint8Array | null;
  /** the last bytes (<= FP_LEN) before offset; null: none (offset 0, or not known yet) */
  tailprint: Uint8Array | null;
  /** owner of the file followed when last opened or read; -1: not known */
  uid: number;
  skipping: number;
  missing: number;
  /** time of the last state change (ms) */
  updated: number;
}

/** An event ready to queue (texts escaped). */
export interface LogEvent {
  kind: string;
  section: string;
  subject: string;
  text: string;
  urgent: boolean;
  details: Record<string, unknown>;
}

/** The row of a log never seen before: no file followed yet. */
export function newRow(path: string): LogRow {
  return { path, dev: 0, ino: 0, offset: 0, size: 0, fingerprint: null, tailprint: null, uid: -1, skipping: 0, missing: 1, updated: 0 };
}

export function loadLog(db: Database, path: string): LogRow | null {
  return db.query("SELECT path, dev, ino, offset, size, fingerprint, tailprint, uid, skipping, missing, updated FROM logs WHERE path = ?").get(path) as LogRow | null;
}

/** Queue `events` and store `row` (updated = now) in one transaction. */
export function saveLog(db: Database, row: LogRow, events: readonly LogEvent[], now: number): void {
  db.transaction(() => {
    for (const e of events) queueEvent(db, e);
    row.updated = now;
    db.query(
      `INSERT INTO logs (path, dev, ino, offset, size, fingerprint, tailprint, uid, skipping, missing, updated)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (path) DO UPDATE SET dev = excluded.dev, ino = excluded.ino, offset = excluded.offset,
         size = excluded.size, fingerprint = excluded.fingerprint, tailprint = excluded.tailprint, uid = excluded.uid,
         skipping = excluded.skipping, missing = excluded.missing, updated = excluded.updated`,
    ).run(row.path, row.dev, row.ino, row.offset, row.size, row.fingerprint, row.tailprint, row.uid, row.skipping, row.missing, row.updated);
  }).immediate();
}

/** Queue one event (inside the caller's transaction, if any). */
export function queueEvent(db: Database, e: LogEvent): void {
  enqueue(db, { channel: "log", kind: e.kind, section: e.section, subject: e.subject, text: e.text, urgent: e.urgent, details: e.details });
}

/** Forget the rows of logs no longer configured (configured again, they start at their end). */
export function forgetLogs(db: Database, keep: (path: string) => boolean): void {
  const rows = db.query("SELECT path FROM logs").all() as { path: string }[];
  const gone = rows.filter((r) => !keep(r.path));
  if (gone.length) db.transaction(() => { for (const r of gone) db.query("DELETE FROM logs WHERE path = ?").run(r.path); }).immediate();
}

/** A notice about `subject` (a log path or a rules home). */
export function noticeEvent(subject: string, text: string, details: Record<string, unknown> = {}): LogEvent {
  return {
    kind: "notice", section: NOTICE_SECTION, subject: escapeString(subject), text: escapeString(text), urgent: false,
    details: { log: subject, ...details },
  };
}

/**
 * The events of one reported line of `path`, one per place the rules put it
 * (as in logcheck, a line matched by several cracking.d/violations.d files is
 * listed under each). `text` is the report text; `offset` where the line starts.
 */
export function lineEvents(
  path: string, text: string, offset: number, cut: boolean, places: readonly { kind: string; section: string }[],
): LogEvent[] {
  const subject = escapeString(path);
  return places.map((v) => ({
    kind: v.kind, section: v.section, subject, text, urgent: v.kind === "alert",
    details: { log: path, offset, section: v.section, ...(cut ? { cut: true } : {}) },
  }));
}
