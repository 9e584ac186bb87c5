// The report queue: every module queues its events here, inside the same
// transaction that stores the state the event describes, so a crash can neither
// lose nor repeat a report. Sinks read committed rows (src/report).
import type { Database } from "bun:sqlite";

export type Channel = "file" | "log" | "pid";

export interface NewEvent {
  channel: Channel;
  kind: string;
  subject: string; // printable (see util/escape.ts)
  text: string; // printable report line(s)
  section?: string;
  urgent?: boolean;
  details?: Record<string, unknown>;
  time?: number;
}

export interface EventRow {
  id: number;
  time: number;
  channel: Channel;
  kind: string;
  urgent: number;
  subject: string;
  section: string;
  text: string;
  details: string;
  mailed: number | null;
}

const listeners = new Set<() => void>();

/** Called (once per tick, after the queuing transaction) when events were queued. */
export function onQueued(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

let scheduled = false;
function notify(): void {
  if (scheduled || listeners.size === 0) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    for (const fn of listeners) fn();
  });
}

type Row = Omit<EventRow, "mailed">;

/** How long a finished (mailed) event is kept (report/prune.ts deletes it then; the chain's verifier allows for it). */
export const EVENT_RETENTION_MS = 30 * 86_400_000;

/**
 * The tamper-evidence chain's hook (src/chain/append.ts registers it when it
 * is loaded; the queue does not import the chain, which lies above it):
 * `append` runs inside the inserting transaction for every events row.
 */
export interface EventChainHook {
  /** whether this process holds the chain key for db */
  attached(db: Database): boolean;
  append(db: Database, row: Row): void;
}
let chainHook: EventChainHook | null = null;
export function setEventChainHook(h: EventChainHook): void {
  chainHook = h;
}

/** Insert one row into events with its chain entry (a no-op while no key is attached), in the caller's transaction. */
function insertRow(db: Database, row: Row): void {
  const res = db
    .query("INSERT INTO events (time, channel, kind, urgent, subject, section, text, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    .run(row.time, row.channel, row.kind, row.urgent, row.subject, row.section, row.text, row.details);
  row.id = Number(res.lastInsertRowid);
  chainHook?.append(db, row);
}

const owned = new WeakSet<Database>();

/**
 * This process holds the database's lock (the daemon, --scan-once): its
 * events go straight into events, chained when it has the key attached, and
 * never wait in the inbox (a daemon whose key file is missing still reports
 * at once).
 */
export function ownQueue(db: Database): void {
  owned.add(db);
}

/**
 * A process writing the database beside the daemon without the chain key
 * (the apt hook, src/packages/hook.ts) must not add an events row without its
 * chain entry (the verifier would rightly call it planted): while the database
 * holds a chain and this process neither owns the queue nor has a key
 * attached, events wait in events_inbox until the daemon adopts them
 * (adoptInbox).
 */
function mustWait(db: Database): boolean {
  if (owned.has(db) || (chainHook?.attached(db) ?? false)) return false;
  return db.query("SELECT 1 FROM chain LIMIT 1").get() !== null;
}

/**
 * Queue an event (and its chain entry, src/chain: both in one transaction, the
 * caller's or its own). Returns the events id, or 0 when the event waits in
 * the inbox (see mustWait).
 */
export function enqueue(db: Database, ev: NewEvent): number {
  const row: Row = {
    id: 0, time: ev.time ?? Date.now(), channel: ev.channel, kind: ev.kind, urgent: ev.urgent ? 1 : 0, subject: ev.subject,
    section: ev.section ?? "", text: ev.text, details: JSON.stringify(ev.details ?? {}),
  };
  const insert = () => {
    if (mustWait(db)) {
      db.query("INSERT INTO events_inbox (time, channel, kind, urgent, subject, section, text, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .run(row.time, row.channel, row.kind, row.urgent, row.subject, row.section, row.text, row.details);
      return;
    }
    insertRow(db, row);
  };
  if (db.inTransaction) insert();
  else db.transaction(insert).immediate();
  if (row.id !== 0) notify();
  return row.id;
}

/** Move what waits in events_inbox into events (chained where a key is attached), oldest first, in one transaction; returns how many. */
export function adoptInbox(db: Database, limit = 1000): number {
  const n = db.transaction(() => {
    const rows = db.query("SELECT * FROM events_inbox ORDER BY id LIMIT ?").all(limit) as Row[];
    for (const r of rows) {
      db.query("DELETE FROM events_inbox WHERE id = ?").run(r.id);
      insertRow(db, { ...r, id: 0 });
    }
    return rows.length;
  }).immediate();
  if (n > 0) notify();
  return n;
}

export function eventsAfter(db: Database, id: number, limit = 1000): EventRow[] {
  return db.query("SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?").all(id, limit) as EventRow[];
}

export function lastEventId(db: Database): number {
  return (db.query("SELECT coalesce(max(id), 0) AS m FROM events").get() as { m: number }).m;
}

/** Events not yet mailed (a count over the pending-events index). */
export function pendingCount(db: Database): number {
  return (db.query("SELECT count(*) AS n FROM events WHERE mailed IS NULL").get() as { n: number }).n;
}
