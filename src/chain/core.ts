// The tamper-evidence chain, pure: entry MACs, key evolution, the payloads of
// what is chained, and the timing decisions (no clock, no I/O).
//
//   mac_i = HMAC-SHA256(k_e, seq_i ‖ time_i ‖ kind_i ‖ H(payload_i) ‖ mac_{i-1})
//   k_{e+1} = HMAC-SHA256(k_e, "evolve")
//
// seq and time are 8-byte big-endian, kind is one length byte and ASCII, H is
// SHA-256, mac_0 is 32 zero bytes. An epoch ends with a `seal` entry (made with
// k_e); the next entry belongs to epoch e+1. The verifier derives every k_e
// from k_0, so a key stolen in epoch e cannot make an entry of an epoch before e.
//
// A payload is a list of fields, each encoded as a tag byte (0 null, 1 text,
// 2 bytes, 3 integer), a 4-byte big-endian length and the bytes (text UTF-8,
// integers in decimal): an events row and an entries row give the same bytes
// whether read back from SQLite or taken from the values that were written.

export const MAC_LEN = 32;
export const ZERO_MAC: Uint8Array = new Uint8Array(MAC_LEN);
export const KEY_LEN = 32;

/** What an entry stands for. */
export type EntryKind =
  | "genesis" // the first entry (data: when, and what existing rows were adopted)
  | "event" // a row inserted into events (ref: its id)
  | "record" // a scanner record written (ref: the path)
  | "drop" // a record and everything below it removed (ref: the path)
  | "dropbelow" // everything below a record removed (ref: the path)
  | "prune" // finished events deleted by retention (data: up to which id, older than when)
  | "mail" // a mail accepted by the relay (data: its report number, range, head)
  | "seal" // the end of an epoch (data: the epoch)
  | "start" // a process began appending (data: what it is)
  | "skip"; // the key file was ahead of the chain (data: from, to): only after a rollback

export const ENTRY_KINDS: readonly EntryKind[] = ["genesis", "event", "record", "drop", "dropbelow", "prune", "mail", "seal", "start", "skip"];

export type Field = string | number | bigint | Uint8Array | null | undefined;

// One scratch buffer for the encoding (hashed at once), grown to the worst
// case of each call: the append path allocates nothing per field.
let scratch = Buffer.allocUnsafe(8192);

function encodeInto(fields: readonly Field[]): number {
  let max = 0;
  for (const f of fields) {
    max += 5 + (f === null || f === undefined ? 0 : typeof f === "string" ? f.length * 3 : typeof f === "number" || typeof f === "bigint" ? 24 : f.byteLength);
  }
  if (max > scratch.length) scratch = Buffer.allocUnsafe(Math.max(max, scratch.length * 2));
  const out = scratch;
  let off = 0;
  for (const f of fields) {
    let n: number;
    if (f === null || f === undefined) { out[off] = 0; n = 0; }
    else if (typeof f === "string") { out[off] = 1; n = out.write(f, off + 5, "utf8"); }
    else if (typeof f === "number" || typeof f === "bigint") { out[off] = 3; n = out.write(String(f), off + 5, "latin1"); }
    else { out[off] = 2; out.set(f, off + 5); n = f.byteLength; }
    out.writeUInt32BE(n, off + 1);
    off += 5 + n;
  }
  return off;
}

/** The canonical bytes of a list of fields (see the header). */
export function encodeFields(fields: readonly Field[]): Buffer {
  return Buffer.from(scratch.subarray(0, encodeInto(fields)));
}

/** SHA-256 of the canonical bytes of a list of fields. */
export function hashFields(fields: readonly Field[]): Buffer {
  return sha256(scratch.subarray(0, encodeInto(fields)));
}

export function sha256(b: Uint8Array | string): Buffer {
  return Bun.CryptoHasher.hash("sha256", b) as Buffer;
}

/** The fields of an events row that are chained (all but `mailed`, which the mail marks later). */
export interface EventFields {
  id: number;
  time: number;
  channel: string;
  kind: string;
  urgent: number;
  subject: string;
  section: string;
  text: string;
  details: string;
}

const eventFields = (e: EventFields): Field[] => [e.id, e.time, e.channel, e.kind, e.urgent, e.subject, e.section, e.text, e.details];

export function eventPayload(e: EventFields): Buffer {
  return encodeFields(eventFields(e));
}

/** H(payload) of an events row. */
export function eventHash(e: EventFields): Buffer {
  return hashFields(eventFields(e));
}

/** The fields of an entries row that are chained (all but error, checked, cycle: the bookkeeping of visits). */
export interface RecordFields {
  path: Uint8Array;
  type: string;
  mode: number | bigint;
  uid: number | bigint;
  gid: number | bigint;
  size: number | bigint;
  ino: number | bigint;
  nlink: number | bigint;
  mtime: number | bigint;
  ctime: number | bigint;
  rdev: number | bigint;
  target: Uint8Array | null;
  hash: string | null;
}

const recordFields = (r: RecordFields): Field[] => [r.path, r.type, r.mode, r.uid, r.gid, r.size, r.ino, r.nlink, r.mtime, r.ctime, r.rdev, r.target, r.hash];

export function recordPayload(r: RecordFields): Buffer {
  return encodeFields(recordFields(r));
}

/** H(payload) of an entries row. */
export function recordHash(r: RecordFields): Buffer {
  return hashFields(recordFields(r));
}

/** H(payload) of a drop: the path (the kind says whether the path itself went too). */
export function pathHash(path: Uint8Array): Buffer {
  return hashFields([path]);
}

/** mac_i (see the header). */
export function entryMac(key: Uint8Array, seq: number, time: number, kind: string, hash: Uint8Array, prev: Uint8Array): Buffer {
  const head = Buffer.allocUnsafe(17 + kind.length);
  head.writeBigUInt64BE(BigInt(seq), 0);
  head.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(time))), 8);
  head[16] = kind.length;
  head.write(kind, 17, "ascii");
  return new Bun.CryptoHasher("sha256", key).update(head).update(hash).update(prev).digest() as Buffer;
}

/** k_{e+1} from k_e. */
export function evolve(key: Uint8Array): Buffer {
  return new Bun.CryptoHasher("sha256", key).update("evolve").digest() as Buffer;
}

/** k_epoch from k_from, the key of epoch `from` (from <= epoch). */
export function keyAt(key: Uint8Array, from: number, epoch: number): Buffer {
  let k: Buffer = Buffer.from(key);
  for (let e = from; e < epoch; e++) {
    const next = evolve(k);
    k.fill(0);
    k = next;
  }
  return k;
}

export function equalBytes(a: Uint8Array | null | undefined, b: Uint8Array | null | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

/** A first key as the admin types it back: 64 hex digits (spaces and dashes allowed). Null when it is not one. */
export function parseKey(text: string): Buffer | null {
  const s = text.replace(/[\s-]+/g, "").toLowerCase();
  return /^[0-9a-f]{64}$/.test(s) ? Buffer.from(s, "hex") : null;
}

/** The first key in groups of 8 hex digits, easier to copy by hand. */
export function showKey(key: Uint8Array): string {
  return hex(key).replace(/(.{8})(?=.)/g, "$1-");
}

// ---- timing (fake time in tests) ---------------------------------------------

/** When the current epoch is sealed: a fixed period after the last seal (or the start), never in the past. */
export function nextSealAt(lastSeal: number, periodMs: number, now: number): number {
  return Math.max(now, lastSeal + periodMs);
}

/** Whether a heartbeat mail is due: mail is on, a period is set, and nothing went out for that long. */
export function heartbeatDue(lastMail: number, periodMs: number, now: number): boolean {
  return periodMs > 0 && now - lastMail >= periodMs;
}

/** The longest silence between two mails the verifier accepts: a heartbeat period and half of one more. */
export function silenceLimit(periodMs: number): number {
  return Math.round(periodMs * 1.5);
}
