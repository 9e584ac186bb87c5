// Appending to the chain, inside the caller's transaction: the hooks that the
// event queue (db/events.ts), the scanner's store (scan/store.ts), retention
// (report/prune.ts) and the mail (chain/stamp.ts) call. A database is chained
// only once a process has attached its key (open.ts); without one, every hook
// is a no-op (tamper evidence off: --status says so).
//
// The head is read from the table at each append (one indexed lookup), never
// cached: a rolled-back transaction takes its entries with it.
import type { Database } from "bun:sqlite";
import { setEventChainHook } from "../db/events.ts";
import { type EntryKind, entryMac, eventHash, type EventFields, pathHash, type RecordFields, recordHash, sha256, ZERO_MAC } from "./core.ts";

/** The key in force for a database (attached by open.ts). */
export interface Live {
  key: Buffer;
  epoch: number;
  keyPath: string;
  /** when the current epoch began (its seal is due a period later) */
  epochStart: number;
}

const live = new WeakMap<Database, Live>();

export function attach(db: Database, l: Live): void {
  live.set(db, l);
}

export function detach(db: Database): void {
  const l = live.get(db);
  l?.key.fill(0);
  live.delete(db);
}

export function attached(db: Database): Live | undefined {
  return live.get(db);
}

export interface Head {
  seq: number;
  epoch: number;
  time: number;
  kind: string;
  mac: Uint8Array;
}

export function chainHead(db: Database): Head | null {
  return db.query("SELECT seq, epoch, time, kind, mac FROM chain ORDER BY seq DESC LIMIT 1").get() as Head | null;
}

/** Append one entry with an explicit key (open.ts's genesis and seals); returns its seq. */
export function appendWith(
  db: Database, key: Uint8Array, epoch: number, kind: EntryKind, hash: Uint8Array, ref: number | Uint8Array | null, data: string | null, now: number,
): number {
  const head = chainHead(db);
  const seq = (head?.seq ?? 0) + 1;
  const mac = entryMac(key, seq, now, kind, hash, head?.mac ?? ZERO_MAC);
  db.query("INSERT INTO chain (seq, epoch, time, kind, ref, data, hash, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    .run(seq, epoch, now, kind, ref, data, hash, mac);
  return seq;
}

/** Append with the attached key; 0 when the database is not chained. */
export function appendEntry(db: Database, kind: EntryKind, hash: Uint8Array, ref: number | Uint8Array | null, data: string | null, now = Date.now()): number {
  const l = live.get(db);
  if (!l) return 0;
  return appendWith(db, l.key, l.epoch, kind, hash, ref, data, now);
}

/** An entry whose payload is its own JSON data. */
export function appendData(db: Database, kind: EntryKind, data: Record<string, unknown>, now = Date.now()): number {
  const text = JSON.stringify(data);
  return appendEntry(db, kind, sha256(text), null, text, now);
}

// ---- the hooks ----------------------------------------------------------------

export function chainEvent(db: Database, e: EventFields): void {
  if (live.has(db)) appendEntry(db, "event", eventHash(e), e.id, null);
}
// the event queue calls it for every row it inserts (db/events.ts)
setEventChainHook({ attached: (db) => live.has(db), append: chainEvent });

export function chainRecord(db: Database, r: RecordFields): void {
  if (live.has(db)) appendEntry(db, "record", recordHash(r), r.path, null);
}

/** A record removed with everything below it (below: only what is below it). */
export function chainDrop(db: Database, path: Uint8Array, below: boolean): void {
  if (live.has(db)) appendEntry(db, below ? "dropbelow" : "drop", pathHash(path), path, null);
}

/** Retention deleted finished events: those with id <= upTo and time < before may be gone. */
export function chainPrune(db: Database, upTo: number, before: number, now = Date.now()): void {
  if (live.has(db)) appendData(db, "prune", { upTo, before }, now);
}
