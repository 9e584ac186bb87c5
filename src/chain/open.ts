// The chain's life in a process: the first key (--init-db, --install), taking
// up the chain where the database left it (the daemon, --scan-once), and the
// end of each epoch (seal, then evolve the key file).
//
// Order of writes, so that a crash at any point leaves a chain that goes on:
//   first key: k_1 goes to the key file first, then the genesis transaction
//     (a key file beside an empty chain is stale and simply replaced);
//   seal: the seal entry commits first, then k_{e+1} overwrites the key file
//     (a key file still at epoch e beside a sealed epoch e is evolved at the
//     next open). k_0 is never written anywhere: it is printed once.
// A key file AHEAD of the chain (epoch later than the chain's head) means the
// database went back in time (a restored copy); the chain goes on in the key
// file's epoch after a `skip` entry, which the verifier reports as tampering.
import type { Database } from "bun:sqlite";
import { randomBytes } from "node:crypto";
import { VERSION } from "../version.ts";
import { appendData, appendWith, attach, attached, chainHead, detach } from "./append.ts";
import { eventHash, type EventFields, evolve, keyAt, type RecordFields, recordHash, sha256, showKey } from "./core.ts";
import { readKeyFile, writeKeyFile } from "./keyfile.ts";

/** Where the key file is: `chainkey`, else beside the database. */
export function chainKeyPath(c: { chainkey: string; database: string }): string {
  return c.chainkey !== "" ? c.chainkey : `${c.database}.chainkey`;
}

export type InitResult = { created: true; key: string; adopted: { events: number; records: number } } | { created: false; note: string; problem: boolean };

/** Chain the rows that exist already (an upgraded database), in the genesis transaction. */
function adopt(db: Database, key: Uint8Array, now: number): { events: number; records: number } {
  let events = 0;
  let records = 0;
  for (const e of db.query("SELECT id, time, channel, kind, urgent, subject, section, text, details FROM events ORDER BY id").iterate() as IterableIterator<EventFields>) {
    appendWith(db, key, 0, "event", eventHash(e), e.id, null, now);
    events++;
  }
  const rows = db.query("SELECT path, type, mode, uid, gid, size, ino, nlink, mtime, ctime, rdev, target, hash FROM entries ORDER BY path").safeIntegers(true);
  for (const r of rows.iterate() as IterableIterator<RecordFields>) {
    appendWith(db, key, 0, "record", recordHash(r), r.path, null, now);
    records++;
  }
  return { events, records };
}

/**
 * The first key, when the chain has none: generated, used for the genesis
 * epoch (which adopts the rows already there and is sealed at once), and
 * returned to be printed once. Otherwise says what it found.
 */
export function initChain(db: Database, keyPath: string, now = Date.now()): InitResult {
  const head = chainHead(db);
  let stored: ReturnType<typeof readKeyFile>;
  try {
    stored = readKeyFile(keyPath);
  } catch (e) {
    return { created: false, note: `chain: ${(e as Error).message}`, problem: true };
  }
  if (head && stored) {
    stored.key.fill(0);
    return { created: false, note: `chain: key file ${keyPath} (epoch ${stored.epoch}), ${head.seq} entries`, problem: false };
  }
  if (head) {
    return {
      created: false, problem: true,
      note: `chain: the key file ${keyPath} is missing, so the chain of ${head.seq} entries cannot go on (tamper evidence is off); verify it with the first key (--verify-chain) before anything else`,
    };
  }
  const k0 = randomBytes(32);
  const k1 = evolve(k0);
  writeKeyFile(keyPath, { epoch: 1, key: k1 });
  k1.fill(0);
  try {
    const adopted = db.transaction(() => {
      const genesis = JSON.stringify({ created: now, version: VERSION });
      appendWith(db, k0, 0, "genesis", sha256(genesis), null, genesis, now);
      const a = adopt(db, k0, now);
      const seal = JSON.stringify({ epoch: 0 });
      appendWith(db, k0, 0, "seal", sha256(seal), null, seal, now);
      return a;
    }).immediate();
    return { created: true, key: showKey(k0), adopted };
  } finally {
    k0.fill(0);
  }
}

export type ChainState = { on: true; epoch: number } | { on: false; reason: string };

/** Take up the chain with the key file (see the header); `what` names the appender in its start entry. */
export function openChain(db: Database, keyPath: string, what: string, now = Date.now()): ChainState {
  const head = chainHead(db);
  if (!head) return { on: false, reason: "no chain yet (run integrityd --init-db to create its first key)" };
  let stored;
  try {
    stored = readKeyFile(keyPath);
  } catch (e) {
    return { on: false, reason: (e as Error).message };
  }
  if (!stored) return { on: false, reason: `${keyPath}: key file missing; the chain cannot go on` };
  const expected = head.kind === "seal" ? head.epoch + 1 : head.epoch;
  let { key, epoch } = stored;
  if (epoch < expected) {
    key = keyAt(stored.key, epoch, expected);
    stored.key.fill(0);
    epoch = expected;
    try {
      writeKeyFile(keyPath, { epoch, key });
    } catch (e) {
      key.fill(0);
      return { on: false, reason: (e as Error).message };
    }
  }
  const lastSeal = db.query("SELECT time FROM chain WHERE kind = 'seal' ORDER BY seq DESC LIMIT 1").get() as { time: number } | null;
  attach(db, { key, epoch, keyPath, epochStart: lastSeal?.time ?? head.time });
  db.transaction(() => {
    if (epoch > expected) appendData(db, "skip", { from: head.epoch, to: epoch }, now);
    appendData(db, "start", { what, pid: process.pid, version: VERSION }, now);
  }).immediate();
  return { on: true, epoch };
}

/** The process stops appending: the key leaves memory. */
export function closeChain(db: Database): void {
  detach(db);
}

/**
 * End the current epoch: the seal entry commits, then the key evolves in the
 * file and in memory. Returns false (nothing done) while the caller's
 * transaction is open (a seal must never be rolled back after the key moved on).
 * Throws when the key file cannot be written (the evolved key is used anyway:
 * the next open evolves the file from the sealed chain).
 */
export function sealEpoch(db: Database, now = Date.now()): boolean {
  const l = attached(db);
  if (!l || db.inTransaction) return false;
  const data = JSON.stringify({ epoch: l.epoch });
  db.transaction(() => appendWith(db, l.key, l.epoch, "seal", sha256(data), null, data, now)).immediate();
  const next = evolve(l.key);
  l.key.fill(0);
  l.key = next;
  l.epoch++;
  l.epochStart = now;
  writeKeyFile(l.keyPath, { epoch: l.epoch, key: next });
  return true;
}
