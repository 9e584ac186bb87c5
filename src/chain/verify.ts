// The verifier's core, pure: walks the chain with the first key and says
// where it first goes wrong, checks what the entries point at (events rows,
// the scanner's records) and what retention may have deleted. No I/O: the
// caller (verifycli.ts) feeds rows in seq order from a copy of the database.
//
// What each check catches:
//   seq not prev+1           entries deleted from the chain
//   epoch jump / no seal     a chain spliced, or (a `skip` entry) the daemon
//                            found its key file ahead: the database was restored
//   MAC                      an entry edited, or forged without its epoch's key
//                            (a key stolen in epoch e makes no entry before e)
//   payload hash             an events row edited; a record row edited (only
//                            its latest record entry can be compared: older
//                            states are overwritten by design)
//   row missing              an events row deleted, unless a later prune entry
//                            covers it and it was older than the retention then
//   row unchained            an events or entries row inserted behind our back
import { EVENT_RETENTION_MS } from "../db/events.ts";
import { escapeBytes } from "../util/escape.ts";
import { ENTRY_KINDS, type EntryKind, entryMac, equalBytes, eventHash, type EventFields, evolve, hex, type RecordFields, recordHash, sha256, ZERO_MAC } from "./core.ts";

export interface ChainRow {
  seq: number;
  epoch: number;
  time: number;
  kind: string;
  ref: number | Uint8Array | null;
  data: string | null;
  hash: Uint8Array;
  mac: Uint8Array;
}

/** seq: the chain entry at fault (null: not one entry, e.g. a row with no entry). */
export interface Finding {
  seq: number | null;
  text: string;
}

const MISSING_SLACK_MS = 60_000;
const KINDS: ReadonlySet<string> = new Set(ENTRY_KINDS);

/** A set of event ids as bits (a million ids: 125 KB, not a million map entries). */
class IdSet {
  private bits = new Uint8Array(1 << 16);
  add(id: number): void {
    if (!(id >= 0) || !Number.isSafeInteger(id)) return;
    const byte = Math.floor(id / 8);
    if (byte >= this.bits.length) {
      const more = new Uint8Array(Math.max(byte + 1, this.bits.length * 2));
      more.set(this.bits);
      this.bits = more;
    }
    this.bits[byte] |= 1 << (id % 8);
  }
  has(id: number): boolean {
    const byte = Math.floor(id / 8);
    return byte < this.bits.length && (this.bits[byte] & (1 << (id % 8))) !== 0;
  }
}

export class ChainWalk {
  private key: Buffer;
  private epoch = 0;
  private prevSeq = 0;
  private prevKind = "";
  private prevMac: Uint8Array = ZERO_MAC;
  /** The first break; the walk stops there (nothing after it can be trusted). */
  broken: Finding | null = null;
  /** Entries verified, and the epoch reached. */
  get verified(): number {
    return this.prevSeq;
  }
  get lastEpoch(): number {
    return this.epoch;
  }

  private readonly events = new IdSet();
  private readonly missing: { seq: number; id: number; time: number }[] = [];
  private readonly prunes: { seq: number; time: number; upTo: number; before: number }[] = [];
  private readonly records = new Map<string, { seq: number; hash: Uint8Array }>();
  private readonly drops = new Map<string, { tree: number; below: number }>();
  /** Problems with what entries point at (the walk goes on past them). */
  readonly findings: Finding[] = [];

  constructor(firstKey: Uint8Array) {
    this.key = Buffer.from(firstKey);
  }

  private fail(seq: number, text: string): Finding {
    this.broken = { seq, text };
    this.key.fill(0);
    return this.broken;
  }

  /**
   * The next entry (in seq order) and, for an event entry, its events row
   * (null: gone). Returns the break when this entry is where the chain breaks.
   */
  step(r: ChainRow, row?: EventFields | null): Finding | null {
    if (this.broken) return this.broken;
    const expect = this.prevSeq + 1;
    if (r.seq !== expect) return this.fail(expect, `entries ${expect}${r.seq - 1 > expect ? `-${r.seq - 1}` : ""} are missing: deleted from the chain`);
    if (r.seq === 1 && (r.kind !== "genesis" || r.epoch !== 0)) return this.fail(1, "the chain does not begin with its genesis entry");
    if (r.kind === "skip") return this.fail(r.seq, `the daemon found its key file at epoch ${r.epoch} while the chain was at epoch ${this.epoch}: the database was rolled back to an older copy (or the chain rebuilt) here`);
    if (r.epoch !== this.epoch) {
      if (r.epoch !== this.epoch + 1 || this.prevKind !== "seal") return this.fail(r.seq, `epoch jumps from ${this.epoch} to ${r.epoch} without a seal: the chain was cut and continued here`);
      const next = evolve(this.key);
      this.key.fill(0);
      this.key = next;
      this.epoch++;
    } else if (this.prevKind === "seal") return this.fail(r.seq, `an entry of epoch ${this.epoch} after that epoch's seal: forged`);
    if (!KINDS.has(r.kind)) return this.fail(r.seq, `unknown kind of entry '${String(r.kind).slice(0, 20)}'`);
    const mac = entryMac(this.key, r.seq, r.time, r.kind, r.hash, this.prevMac);
    if (!equalBytes(mac, r.mac)) return this.fail(r.seq, `its MAC does not verify: the entry (or the one before it) was changed, or it was made without the key of epoch ${r.epoch}`);
    if (r.data !== null && !equalBytes(sha256(r.data), r.hash)) return this.fail(r.seq, "its data does not match its hash: changed");
    if (r.kind === "seal" && dataOf(r)?.epoch !== r.epoch) return this.fail(r.seq, `a seal that names another epoch than ${r.epoch}`);
    this.payload(r, row);
    this.prevSeq = r.seq;
    this.prevKind = r.kind;
    this.prevMac = r.mac;
    return null;
  }

  private payload(r: ChainRow, row: EventFields | null | undefined): void {
    const kind = r.kind as EntryKind;
    if (kind === "event") {
      const id = Number(r.ref);
      this.events.add(id);
      if (row === undefined) return;
      if (row === null) this.missing.push({ seq: r.seq, id, time: r.time });
      else if (!equalBytes(eventHash(row), r.hash)) this.findings.push({ seq: r.seq, text: `events row ${id} was changed after it was chained` });
    } else if (kind === "record" && r.ref instanceof Uint8Array) {
      this.records.set(hex(r.ref), { seq: r.seq, hash: r.hash });
    } else if ((kind === "drop" || kind === "dropbelow") && r.ref instanceof Uint8Array) {
      const k = hex(r.ref);
      const d = this.drops.get(k) ?? { tree: 0, below: 0 };
      if (kind === "drop") d.tree = r.seq;
      else d.below = r.seq;
      this.drops.set(k, d);
    } else if (kind === "prune") {
      const d = dataOf(r);
      if (d) this.prunes.push({ seq: r.seq, time: r.time, upTo: Number(d.upTo), before: Number(d.before) });
    }
  }

  /** After the walk: the missing events rows retention did not account for, and the events rows no entry names. */
  checkEvents(rowIds: Iterable<number>): void {
    for (const m of this.missing) {
      // (the entry is appended just after the row's own time: a minute's slack at the retention's edge)
      const ok = this.prunes.some((p) => p.seq > m.seq && m.id <= p.upTo && m.time < p.before + MISSING_SLACK_MS && p.before <= p.time - EVENT_RETENTION_MS + MISSING_SLACK_MS);
      if (!ok) this.findings.push({ seq: m.seq, text: `events row ${m.id} was deleted (no retention prune covers it)` });
    }
    if (this.broken) return; // rows after a break have no trustworthy entries to compare with
    for (const id of rowIds) {
      if (!this.events.has(id)) this.findings.push({ seq: null, text: `events row ${id} is not in the chain: inserted behind integrityd's back` });
    }
  }

  /** Whether a recorded path's last record entry is undone by a later drop of it or of a directory above it. */
  private dropped(pathHex: string, seq: number): boolean {
    const self = this.drops.get(pathHex);
    if (self && self.tree > seq) return true;
    // ancestors: cut at each "/" (2f) that starts a byte
    for (let i = pathHex.length - 2; i > 0; i -= 2) {
      if (pathHex.slice(i, i + 2) !== "2f") continue;
      const d = this.drops.get(pathHex.slice(0, i));
      if (d && (d.tree > seq || d.below > seq)) return true;
    }
    const root = this.drops.get("2f");
    return !!root && pathHex !== "2f" && (root.tree > seq || root.below > seq);
  }

  /** After the walk: the scanner's records against their last record entry. */
  checkRecords(rows: Iterable<RecordFields>): void {
    if (this.broken) return;
    const seen = new Set<string>();
    for (const r of rows) {
      const k = hex(r.path);
      seen.add(k);
      const e = this.records.get(k);
      const show = escapeBytes(r.path).slice(0, 300);
      if (!e || this.dropped(k, e.seq)) this.findings.push({ seq: null, text: `record of ${show} is not in the chain: inserted behind integrityd's back` });
      else if (!equalBytes(recordHash(r), e.hash)) this.findings.push({ seq: e.seq, text: `record of ${show} was changed after it was chained (a re-baselined file?)` });
    }
    for (const [k, e] of this.records) {
      if (!seen.has(k) && !this.dropped(k, e.seq)) {
        this.findings.push({ seq: e.seq, text: `record of ${escapeBytes(Buffer.from(k, "hex")).slice(0, 300)} was deleted behind integrityd's back` });
      }
    }
  }
}

function dataOf(r: ChainRow): Record<string, unknown> | null {
  try {
    const d = JSON.parse(r.data ?? "null") as unknown;
    return d && typeof d === "object" ? (d as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The earliest entry at fault among findings (null when none names one). */
export function firstBad(findings: readonly Finding[]): number | null {
  let best: number | null = null;
  for (const f of findings) if (f.seq !== null && (best === null || f.seq < best)) best = f.seq;
  return best;
}
