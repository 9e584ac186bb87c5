// Database access for the scanner: the tables entries, pending and history.
// Every function runs inside the caller's transaction where it matters.
import type { Database } from "bun:sqlite";
import { chainDrop, chainRecord } from "../chain/append.ts";
import type { Attrs, EntryType } from "./attrs.ts";
import { MemQueue } from "./memqueue.ts";
import { parentOf, pathKey, subtreeRange, type PathBytes } from "./paths.ts";

export interface EntryRow extends Attrs {
  path: PathBytes;
  error: string | null;
  checked: number;
  cycle: number;
  /** Recorded only as a problem (could never be stat'ed): no attributes to compare. */
  placeholder: boolean;
}

interface RawRow {
  path: Uint8Array;
  type: string;
  mode: bigint;
  uid: bigint;
  gid: bigint;
  size: bigint;
  ino: bigint;
  nlink: bigint;
  mtime: bigint;
  ctime: bigint;
  rdev: bigint;
  target: Uint8Array | null;
  hash: string | null;
  error: string | null;
  checked: bigint;
  cycle: bigint;
}

function toRow(r: RawRow): EntryRow {
  return {
    path: r.path,
    type: r.type as EntryType,
    mode: Number(r.mode),
    uid: Number(r.uid),
    gid: Number(r.gid),
    size: BigInt(r.size),
    ino: BigInt(r.ino),
    nlink: Number(r.nlink),
    mtime: BigInt(r.mtime),
    ctime: BigInt(r.ctime),
    rdev: BigInt(r.rdev),
    target: r.target,
    hash: r.hash,
    error: r.error,
    checked: Number(r.checked),
    cycle: Number(r.cycle),
    placeholder: Number(r.mode) < 0,
  };
}

/**
 * The traversal queue normally lives in the `pending` table, so a restarted
 * daemon resumes its cycle. --scan-once starts a fresh cycle on every run
 * anyway, so it keeps the queue in memory (memQueue: memqueue.ts, whose
 * removals cost what they remove, not the queue's size) and spares the writes.
 */
const NONE: ReadonlySet<string> = new Set();

/** The chained fields of a placeholder row, as putPlaceholder writes them. */
const PLACEHOLDER = (path: PathBytes) => ({ path, type: "unknown", mode: -1, uid: -1, gid: -1, size: 0, ino: 0, nlink: 0, mtime: 0, ctime: 0, rdev: 0, target: null, hash: null });

export class Store {
  private readonly mem: { queue: MemQueue; persisted: Set<string> } | null;

  constructor(readonly db: Database, opts: { memQueue?: boolean } = {}) {
    this.mem = opts.memQueue ? { queue: new MemQueue(), persisted: new Set() } : null;
  }

  /** Entries removed so far (by dropTree and dropBelow). */
  drops = 0;

  get(path: PathBytes): EntryRow | null {
    const r = this.db.query("SELECT * FROM entries WHERE path = ?").safeIntegers(true).get(path) as RawRow | null;
    return r ? toRow(r) : null;
  }

  /** Whether nothing at all is recorded. */
  isEmpty(): boolean {
    return this.db.query("SELECT 1 FROM entries LIMIT 1").get() == null;
  }

  /** Whether an entry is recorded for the path. */
  has(path: PathBytes): boolean {
    return this.db.query("SELECT 1 FROM entries WHERE path = ?").get(path) != null;
  }

  put(path: PathBytes, a: Attrs, error: string | null, now: number, cycle: number): void {
    this.db
      .query(
        `INSERT OR REPLACE INTO entries (path, parent, type, mode, uid, gid, size, ino, nlink, mtime, ctime, rdev, target, hash, error, checked, cycle)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(path, parentOf(path), a.type, a.mode, a.uid, a.gid, a.size, a.ino, a.nlink, a.mtime, a.ctime, a.rdev, a.target, a.hash, error, now, cycle);
    chainRecord(this.db, { path, ...a });
  }

  /** A path that could not even be stat'ed: remembered so its problem is reported once. */
  putPlaceholder(path: PathBytes, error: string, now: number, cycle: number): void {
    this.db
      .query(
        `INSERT OR REPLACE INTO entries (path, parent, type, mode, uid, gid, size, ino, nlink, mtime, ctime, rdev, target, hash, error, checked, cycle)
         VALUES (?, ?, 'unknown', -1, -1, -1, 0, 0, 0, 0, 0, 0, NULL, NULL, ?, ?, ?)`,
      )
      .run(path, parentOf(path), error, now, cycle);
    chainRecord(this.db, PLACEHOLDER(path));
  }

  touch(path: PathBytes, error: string | null, now: number, cycle: number): void {
    this.db.query("UPDATE entries SET error = ?, checked = ?, cycle = ? WHERE path = ?").run(error, now, cycle, path);
  }

  children(dir: PathBytes): { path: Uint8Array; type: string }[] {
    return this.db.query("SELECT path, type FROM entries WHERE parent = ?").all(dir) as { path: Uint8Array; type: string }[];
  }

  countBelow(dir: PathBytes): number {
    const [lo, hi] = subtreeRange(dir);
    return (this.db.query("SELECT count(*) AS n FROM entries WHERE path >= ? AND path < ?").get(lo, hi) as { n: number }).n;
  }

  /** Remove an entry and everything recorded below it (entries and pending). Returns how many were below. */
  dropTree(path: PathBytes): number {
    const [lo, hi] = subtreeRange(path);
    const below = this.db.query("DELETE FROM entries WHERE path >= ? AND path < ?").run(lo, hi).changes;
    const self = this.db.query("DELETE FROM entries WHERE path = ?").run(path).changes;
    this.drops += below + self;
    if (below + self > 0) chainDrop(this.db, path, false);
    this.db.query("DELETE FROM pending WHERE path >= ? AND path < ?").run(lo, hi);
    this.db.query("DELETE FROM pending WHERE path = ?").run(path);
    this.mem?.queue.removeWithin(path);
    return below;
  }

  dropBelow(path: PathBytes): number {
    const [lo, hi] = subtreeRange(path);
    this.db.query("DELETE FROM pending WHERE path >= ? AND path < ?").run(lo, hi);
    this.mem?.queue.removeWithin(path); // (the path itself too: its visit unqueues it anyway)
    const below = this.db.query("DELETE FROM entries WHERE path >= ? AND path < ?").run(lo, hi).changes;
    this.drops += below;
    if (below > 0) chainDrop(this.db, path, true);
    return below;
  }

  // ---- traversal queue --------------------------------------------------------

  /**
   * Queue a path for this cycle unless it was already visited in it.
   * `persist`: also in the table when the queue is in memory (area roots, so
   * that a daemon taking over after --scan-once starts its cycle right).
   */
  queue(path: PathBytes, cycle: number, persist = false): void {
    if (this.mem) {
      // (no need to ask the table whether the path was visited in this cycle:
      // a queue in memory belongs to one pass over a fresh cycle, which
      // reaches each directory, and so queues each path, once)
      const key = pathKey(path);
      this.mem.queue.push(path, key);
      if (!persist) return;
      this.mem.persisted.add(key);
    }
    this.db
      .query(
        "INSERT OR IGNORE INTO pending (path, rnd) SELECT ?1, random() WHERE NOT EXISTS (SELECT 1 FROM entries WHERE path = ?1 AND cycle = ?2)",
      )
      .run(path, cycle);
  }

  unqueue(path: PathBytes): void {
    if (this.mem) {
      const key = pathKey(path);
      this.mem.queue.remove(key);
      // with the queue in memory only the persisted paths are in the table
      if (!this.mem.persisted.delete(key)) return;
    }
    this.db.query("DELETE FROM pending WHERE path = ?").run(path); // a no-op write when absent
  }

  /**
   * A pending path drawn at random: the first at or after a random point of
   * the shuffled order, passing over the paths in `held` (by pathKey: those
   * in the big-file lane, lane.ts).
   */
  draw(probe: bigint, held: ReadonlySet<string> = NONE): Uint8Array | null {
    if (this.mem) {
      // Depth first (last queued first): a one-shot full-speed pass gains
      // nothing from a random order, and locality keeps the B-tree writes few.
      void probe;
      return this.mem.queue.peek();
    }
    // held.size + 1 rows always include one not held, when there is one
    const n = held.size + 1;
    const free = (rows: { path: Uint8Array }[]) => rows.find((r) => !held.has(pathKey(r.path)))?.path ?? null;
    return (
      free(this.db.query("SELECT path FROM pending WHERE rnd >= ? ORDER BY rnd LIMIT ?").all(probe, n) as { path: Uint8Array }[]) ??
      free(this.db.query("SELECT path FROM pending ORDER BY rnd LIMIT ?").all(n) as { path: Uint8Array }[])
    );
  }

  /** In-memory queue only: remove and return the next path (depth first). */
  take(): Uint8Array | null {
    return this.mem ? this.mem.queue.take() : null;
  }

  pendingCount(): number {
    if (this.mem) return this.mem.queue.size;
    return (this.db.query("SELECT count(*) AS n FROM pending").get() as { n: number }).n;
  }

  clearPending(): void {
    if (this.mem) {
      this.mem.queue.clear();
      this.mem.persisted.clear();
    }
    this.db.query("DELETE FROM pending").run();
  }

  /** Reshuffle one chunk of the queue (by path order after `after`); returns the last path done, or null at the end. */
  reshuffleChunk(after: Uint8Array, limit: number): Uint8Array | null {
    const rows = this.db.query("SELECT path FROM pending WHERE path > ? ORDER BY path LIMIT ?").all(after, limit) as { path: Uint8Array }[];
    if (rows.length === 0) return null;
    const last = rows[rows.length - 1].path;
    this.db.query("UPDATE pending SET rnd = random() WHERE path > ? AND path <= ?").run(after, last);
    return rows.length < limit ? null : last;
  }

  /**
   * The entry checked longest ago that has not been visited in this cycle,
   * passing over `held`; or (cycle null) the one checked longest ago of all
   * but the files above `smallfiles` bytes (read once a cycle, by the lane).
   */
  stalest(cycle: number | null, held: ReadonlySet<string> = NONE, smallfiles = 0): Uint8Array | null {
    const rows = (
      cycle === null
        ? this.db.query("SELECT path FROM entries WHERE NOT (type = 'file' AND size > ?) ORDER BY checked LIMIT ?").all(smallfiles, held.size + 1)
        : this.db.query("SELECT path FROM entries WHERE cycle < ? ORDER BY checked LIMIT ?").all(cycle, held.size + 1)
    ) as { path: Uint8Array }[];
    return rows.find((r) => !held.has(pathKey(r.path)))?.path ?? null;
  }

  /** Entries not visited in this cycle (e.g. never reached): queued before a cycle may end. */
  unvisited(cycle: number, limit: number): Uint8Array[] {
    return (this.db.query("SELECT path FROM entries WHERE cycle < ? LIMIT ?").all(cycle, limit) as { path: Uint8Array }[]).map((r) => r.path);
  }

  /** A page of all entry paths after `after`, for sweeps. */
  page(after: Uint8Array, limit: number): Uint8Array[] {
    return (this.db.query("SELECT path FROM entries WHERE path > ? ORDER BY path LIMIT ?").all(after, limit) as { path: Uint8Array }[]).map((r) => r.path);
  }

  totals(): { entries: number; files: number; bytes: number } {
    const r = this.db
      .query("SELECT count(*) AS entries, coalesce(sum(type = 'file'), 0) AS files, coalesce(sum(CASE WHEN type = 'file' THEN size ELSE 0 END), 0) AS bytes FROM entries")
      .get() as { entries: number; files: number; bytes: number };
    return r;
  }

  history(now: number, path: PathBytes, kind: string, before: unknown, after: unknown): void {
    this.db
      .query("INSERT INTO history (time, path, kind, before, after) VALUES (?, ?, ?, ?, ?)")
      .run(now, path, kind, before === null ? null : JSON.stringify(before), after === null ? null : JSON.stringify(after));
  }
}
