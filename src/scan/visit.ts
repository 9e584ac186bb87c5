// The visit of one path, shared by both ways of driving the scanner: lstat
// (and hash, and list) it through the I/O edge (reader.ts, or the walker at
// full speed), then record it, its listed children and any deletion found, in
// one transaction (record.ts). A path is never resolved as a whole: the visit
// gets its parent directory's descriptor (dirs.ts: from the full-speed
// driver's open directories, or a chain opened from the area for this visit
// in the trickle) and reaches the entry by name; a directory is opened
// without following it and checked against the lstat, and its children are
// reached through that descriptor. A component that became a symlink or a
// non-directory makes the path missing (its own visit reports the change). A file that changes while it is read is
// visited again after a pause, a few times; one that never holds still is
// recorded with its old hash and reported as not verified. A path found gone
// is reported at the top of what went (missing).
//
// In the daemon a regular file above `smallfiles` is not read by the visit
// that finds it: the path is offered to the big-file lane (lane.ts) and
// nothing is recorded; the lane's own visit (why "lane") reads and records
// it. A visit after stop() records nothing. A recorded non-directory whose
// ctime moved is handed to the trickle for early re-checks (soon.ts).
import { log } from "../util/log.ts";
import type { Attrs } from "./attrs.ts";
import type { Walked } from "./host.ts";
import { closeQuietly, listFdAsync, OpenDirs, openSeenDir, REPLACED, type Place } from "./dirs.ts";
import type { FsProblem } from "./errors.ts";
import { parentOf, pathKey, samePath, showPath, type PathBytes } from "./paths.ts";
import type { Listing } from "./facts.ts";
import { hashFileAt, statAt, type HashResult, type Listed, type StatResult } from "./reader.ts";
import type { ScanEvent } from "./record.ts";
import type { ScanHost, VisitWhy } from "./host.ts";

export class Visitor {
  private missingAreas = new Set<string>();
  /** The trickle's: a chain opened for each visit, closed with it. */
  private readonly fresh = new OpenDirs(0);

  constructor(private readonly s: ScanHost) {}

  /** Visit one path: compare with the record, report, store, queue children. */
  async visit(path: PathBytes, why: VisitWhy): Promise<void> {
    this.s.opts.hooks?.visit?.(path, why);
    const area = this.s.areaOf(path);
    if (!area || this.s.excluded(path)) {
      this.s.recorder.tx(() => this.s.store.dropTree(path));
      return;
    }
    const attempts = this.s.opts.tornAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      const r = await this.visitOnce(path, area, attempt >= attempts, why);
      if (r !== "retry" || this.s.stopped) return;
      await this.s.sleep((this.s.opts.tornPauseMs ?? 200) * attempt);
      if (this.s.stopped) return;
    }
  }

  private async visitOnce(path: PathBytes, area: PathBytes, lastAttempt: boolean, why: VisitWhy): Promise<"done" | "retry"> {
    const full = this.s.full;
    const place = (full?.dirs ?? this.fresh).placeOf(path, area);
    if (!place.ok) return this.unreachable(path, area, place);
    let dirFd: number | null = null;
    let releaseDir: (() => void) | null = null;
    try {
      return await this.visitAt(path, area, place, lastAttempt, why, (fd) => {
        dirFd = fd;
        if (full) releaseDir = full.dirs.adopt(path, fd);
      });
    } finally {
      place.release();
      if (releaseDir) (releaseDir as () => void)();
      else if (dirFd !== null) closeQuietly(dirFd);
    }
  }

  /** lstat or the parent chain failed: gone (ENOENT, ENOTDIR: a component is no directory now) or a problem. */
  private unreachable(path: PathBytes, area: PathBytes, st: FsProblem): "done" {
    if (st.code === "ENOENT" || st.code === "ENOTDIR") this.missing(path, area);
    else this.commitProblem(path, st.message);
    return "done";
  }

  /**
   * The visit proper, the entry being `place.name` in the directory open as
   * `place.fd`; opened: a directory's own descriptor. why "lane": the lane's
   * visit (a big file is read here, not offered to the lane); "hint": a big
   * file goes to the front of the lane.
   */
  private async visitAt(
    path: PathBytes, area: PathBytes, place: Place, lastAttempt: boolean, why: VisitWhy, opened: (fd: number) => void,
  ): Promise<"done" | "retry"> {
    const inLane = why === "lane";
    let st: StatResult;
    let hashedThere: HashResult | null = null;
    let listed: Listed | null = null;
    const walker = this.s.opts.walker;
    if (walker) {
      listed = await walker.list(place.fd, place.name, this.s.config.hash);
      if (listed.fd !== null) opened(listed.fd);
      st = listed.stat;
      hashedThere = listed.hash;
    } else {
      st = statAt(place.fd, place.name);
    }
    if (!st.ok) return this.unreachable(path, area, st);
    let attrs: Attrs = st.attrs;
    let error: string | null = null;
    let hashed = 0;
    // the recorded hash, kept when the content could not be verified this time
    const oldHash = () => {
      const old = this.s.store.get(path);
      return old && !old.placeholder && old.type === "file" ? old.hash : null;
    };
    if (attrs.type === "file") {
      const small = this.s.pacer.isSmall(Number(attrs.size));
      const lane = this.s.lane;
      if (!small && !hashedThere && lane && !inLane) {
        const offer = lane.offer(path, why === "hint");
        if (offer !== "full") return "done"; // the lane reads and records it
        const unread = "content not read this time: too many big files waiting to be read";
        this.commitVisit(path, { ...attrs, hash: oldHash() }, unread, null, 0, null, null, null);
        return "done";
      }
      const hooks = this.s.opts.hooks;
      let sofar = 0;
      const r =
        hashedThere ??
        (await hashFileAt(place.fd, place.name, attrs, st.dev, {
          algo: this.s.config.hash,
          small,
          chunkSize: () => this.s.pacer.chunkSize(),
          pace: async (n) => {
            if (hooks?.chunk) await hooks.chunk(path, sofar);
            sofar += n;
            await this.s.sleep(this.s.pacer.bytesWait(this.s.now(), n));
          },
          stopped: () => this.s.stopped,
        }));
      if (small && hooks?.chunk) await hooks.chunk(path, Number(attrs.size));
      if (this.s.stopped) return "done"; // a hash finished after stop(): abandoned, nothing written
      switch (r.kind) {
        case "stopped":
          return "done";
        case "ok":
          attrs = { ...r.attrs, hash: r.hash };
          hashed = r.bytes;
          break;
        case "vanished":
        case "torn":
          if (!lastAttempt) return "retry";
          error = r.kind === "torn" ? `${r.reason} on every attempt; content not verified this cycle` : "vanished while being read";
          attrs = { ...attrs, hash: oldHash() };
          break;
        case "error":
          error = `${r.message}; content not verified`;
          attrs = { ...attrs, hash: oldHash() };
          break;
      }
    }
    let names: Buffer[] | null = null;
    let walked: Walked | null = null;
    let queued: Set<string> | null = null;
    if (attrs.type === "dir") {
      let dirFd = listed?.fd ?? null;
      let l: Listing;
      if (listed?.listing) {
        l = listed.listing;
      } else {
        const o = openSeenDir(place.fd, place.name, { ino: attrs.ino, dev: st.dev });
        if (o.ok) {
          dirFd = o.fd;
          opened(o.fd);
          l = await listFdAsync(o.fd);
        } else {
          l = o;
        }
      }
      // replaced (or made a symlink) between the lstat and the open: look again
      if (!l.ok && l.code === REPLACED && !lastAttempt) return "retry";
      // at full speed in byte order: the records go into the table's B-trees
      // nearly in key order (less work for SQLite), and reports come out sorted
      if (l.ok) names = this.s.unlimited ? l.names.sort(Buffer.compare) : l.names;
      else error = `cannot list directory: ${l.message}`;
      if (names) this.s.opts.hooks?.listed?.(path);
      if (names && this.s.full && walker) walked = await this.s.full.visitChildren(walker, dirFd!, path, names);
      if (names && this.s.trickle) {
        const q = await this.s.trickle.queueBigDirectory(path, names);
        if (q === "stopped") return "done";
        queued = q;
      }
      this.commitVisit(path, attrs, error, names, hashed, queued, walked, dirFd);
      return "done";
    }
    this.commitVisit(path, attrs, error, null, hashed, null, null, null);
    return "done";
  }

  /** dirFd: the directory's descriptor when it was listed (names), for the lstat of children that look gone. */
  private commitVisit(
    path: PathBytes, attrs: Attrs, error: string | null, names: Buffer[] | null, hashed: number,
    queued: Set<string> | null, walked: Walked | null, dirFd: number | null,
  ): void {
    const now = this.s.now();
    const events: ScanEvent[] = [];
    let found = { newDir: false, ctimeMoved: false };
    this.s.recorder.tx(() => {
      if (this.s.full?.parentGone(path)) return;
      found = this.s.recorder.entry(path, attrs, error, hashed, now, events);
      if (names) this.reconcileChildren(path, dirFd!, names, now, events, queued, walked);
      this.s.cycles.flushSoon(now);
    });
    if (found.newDir) this.s.trickle?.requestReshuffle();
    if (found.ctimeMoved) this.s.trickle?.recheckSoon(path);
    this.s.recorder.emit(events);
  }

  /**
   * A child visited together with its directory's listing (full speed):
   * recorded right here when the visit settled it, else false (then it is
   * queued and visited on its own: directories, and anything that vanished,
   * changed while read or could not be examined, for the usual retries).
   */
  private recordChild(child: PathBytes, r: Walked["visited"][number], now: number, events: ScanEvent[]): boolean {
    if (!r.stat.ok || r.stat.attrs.type === "dir") return false;
    let attrs = r.stat.attrs;
    let hashed = 0;
    if (attrs.type === "file") {
      if (r.hash?.kind !== "ok") return false;
      attrs = { ...attrs, hash: r.hash.hash };
      hashed = r.hash.bytes;
    }
    this.s.recorder.entry(child, attrs, null, hashed, now, events, false);
    return true;
  }

  /**
   * Record or queue the listed children; report recorded children that are gone.
   * queued: the children's keys when they were already queued (big directories);
   * walked: the children in scope already visited on the walker (full speed).
   */
  private reconcileChildren(
    dir: PathBytes, dirFd: number, names: Buffer[], now: number, events: ScanEvent[], queued: Set<string> | null, walked: Walked | null,
  ): void {
    const cycle = this.s.cycles.number;
    let listed = queued;
    if (!listed) {
      listed = new Set<string>();
      const later: PathBytes[] = [];
      const { children } = walked ?? this.s.childrenInScope(dir, names);
      for (let i = 0; i < children.length; i++) {
        const child = children[i];
        listed.add(pathKey(child));
        if (walked && this.recordChild(child, walked.visited[i], now, events)) continue;
        later.push(child);
      }
      // (the queue in memory is taken from its end: queued last to first, the
      // names come back in their order)
      for (let i = later.length - 1; i >= 0; i--) this.s.store.queue(later[i], cycle);
    }
    if (this.s.recorder.freshTable) return;
    for (const c of this.s.store.children(dir)) {
      if (listed.has(pathKey(c.path))) continue;
      if (this.s.excluded(c.path)) {
        this.s.store.dropTree(c.path); // newly excluded: no report
        continue;
      }
      const st = statAt(dirFd, c.path.subarray(dir.length + (dir.length === 1 ? 0 : 1)));
      if (st.ok || (st.code !== "ENOENT" && st.code !== "ENOTDIR")) continue; // appeared after the listing
      this.s.recorder.deletion(c.path, now, events);
    }
  }

  /**
   * The path is gone. Walk up to the highest ancestor (within the area) that
   * is gone too, so a removed tree is reported once, at its top.
   */
  private missing(path: PathBytes, area: PathBytes): void {
    let top = path;
    while (!samePath(top, area)) {
      const parent = parentOf(top);
      const st = this.statIn(parent, area);
      if (st.ok && st.attrs.type === "dir") break;
      if (st.ok || (st.code !== "ENOENT" && st.code !== "ENOTDIR")) break; // the parent's own visit reports it
      top = parent;
    }
    const now = this.s.now();
    const events: ScanEvent[] = [];
    this.s.recorder.tx(() => {
      this.s.recorder.deletion(top, now, events);
      this.s.store.unqueue(path);
      this.s.cycles.count(0);
    });
    if (samePath(top, area) && events.length === 0) {
      const k = pathKey(area);
      if (!this.missingAreas.has(k)) {
        this.missingAreas.add(k);
        log.warn(`area ${showPath(area)} does not exist`);
      }
    }
    this.s.recorder.emit(events);
  }

  /** lstat a path within an area through a chain opened for the purpose. */
  private statIn(path: PathBytes, area: PathBytes): StatResult {
    const place = this.fresh.placeOf(path, area);
    if (!place.ok) return place;
    try {
      return statAt(place.fd, place.name);
    } finally {
      place.release();
    }
  }

  private commitProblem(path: PathBytes, message: string): void {
    const now = this.s.now();
    const events: ScanEvent[] = [];
    this.s.recorder.tx(() => this.s.recorder.problem(path, message, now, events));
    this.s.recorder.emit(events);
  }
}
