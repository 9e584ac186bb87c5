// One followed log: its state between passes (the descriptor held, the
// rotation seen, the problem already reported), the reading of its new lines
// and the switching between files, with the decisions of follow.ts applied.
// `pass()` is one pass over the log; the task (tailer.ts) decides when passes
// run and in which order, and owns the rule sets (asked through the context).
//
// First sight (a log never seen before): follow it from its current end, so
// the first report is not flooded with history. A log that does not exist
// (yet): one notice; read from the start when it appears.
//
// What is at the path is looked at with files.lookAt: a symbolic link that
// follow.linkTrusted refuses is one notice per run (per target) and is never
// opened; a file already followed is then finished as if the path were empty.
// Every file is opened without following a link (files.openRead). The owner of
// the followed file is recorded (the `uid` of the row); another owner later,
// the same file chowned or a new file at the path, is a notice (follow.ownerChanged).
//
// Work is bounded: at most PASS_BYTES per pass (one flooded log cannot starve
// the others), at most EVENTS_PER_COMMIT events per transaction, and a stop
// after any line when the task's time slice is used up (looked at every 32
// lines or CHECK_BYTES, whichever comes first); the rest is read at the next
// pass, from the stored offset. A stop of the task is then seen within one
// slice and one line, whatever the lines' length.
import type { Database } from "bun:sqlite";
import { fstatSync, type Stats } from "node:fs";
import type { LogSpec } from "../config/config.ts";
import { log } from "../util/log.ts";
import { facts, findByInode, findCopy, head, lookAt, openRead, openSame, pread, safeClose, siblingFacts, whyNotReadable } from "./files.ts";
import { afterMove, checkHead, type FileFacts, followedState, nextTailprint, ownerChanged, pathState, skippedRotations } from "./follow.ts";
import { endWindow, lineText, reportText, splitLines, startAtEnd, stateAfter } from "./lines.ts";
import { lineEvents, loadLog, type LogEvent, type LogRow, newRow, noticeEvent, saveLog } from "./store.ts";
import type { Classifier } from "../rules/layers.ts";

/** Bytes read per positional read (must exceed MAX_LINE). */
const CHUNK = 256 * 1024;
/** Bytes one log may read per pass before the other logs get their turn. */
export const PASS_BYTES = 8 * 1024 * 1024;
/** Most events queued in one transaction (bounds the time a commit takes). */
const EVENTS_PER_COMMIT = 500;
/** Bytes of lines classified between two looks at the time slice (64 KiB lines can be slow to classify). */
const CHECK_BYTES = 16 * 1024;
/** Most follow decisions per log per pass (a file replaced again and again cannot hold the pass). */
const MAX_STEPS = 8;

/** What a follower needs from its task. */
export interface FollowContext {
  db: Database;
  rotateGraceMs: number;
  /** the classifier of the log's rule set (loaded by the task) */
  classifier(spec: LogSpec): Classifier;
  /** the task is stopping: stop reading */
  stopped(): boolean;
  /** the task's time slice is used up: stop after this line */
  sliceOver(): boolean;
  /** yield to the event loop when the time slice is used up */
  maybeYield(): Promise<void>;
  /** run a pass over this log again after `ms` */
  wakeLater(path: string, ms: number): void;
  /** the config names `path` as a log (a link to it may be followed) */
  named(path: string): boolean;
}

/** The daemon's own user: a link it owns is trusted as root's is. */
const SELF_UID = process.getuid?.() ?? 0;

export class Follower {
  private fd: number | null = null;
  private fdDev = 0;
  private fdIno = 0;
  /** when a rename rotation was first seen while the old file was still being written */
  private rotationSeen = 0;
  /** problem already reported for this log (e.g. not a regular file) */
  private complaint = "";
  /** the target of the refused link at the path already announced ("" : none) */
  private refused = "";
  /** bytes this pass may still read (fairness between logs) */
  private budget = 0;
  /** the followed file was found next to the log by inode (we were not running when it was rotated) */
  private viaSibling = false;

  constructor(public spec: LogSpec, private readonly ctx: FollowContext) {}

  get path(): string {
    return this.spec.path;
  }

  /** Let go of the descriptor held (the log is no longer configured, the task stops, or a pass failed). */
  close(): void {
    safeClose(this.fd);
    this.fd = null;
  }

  private commit(row: LogRow, events: readonly LogEvent[]): void {
    saveLog(this.ctx.db, row, events, Date.now());
  }

  /** One pass over the log. Returns false when it stopped early and should run again soon. */
  async pass(): Promise<boolean> {
    const { ctx, path } = this;
    this.budget = PASS_BYTES;
    const row = loadLog(ctx.db, path);
    if (!row) {
      this.firstSight(); // nothing to read yet: it starts at the end, or the log is missing
      return true;
    }
    for (let step = 0; step < MAX_STEPS && !ctx.stopped(); step++) {
      const at = lookAt(path, ctx.named, SELF_UID);
      if (at.kind === "refused") {
        this.refuse(row, at.target);
        if (row.ino === 0) return true; // nothing followed: nothing to read
      } else {
        this.refused = "";
      }
      // a refused link counts as nothing at the path: the file followed until now is finished
      const cur = at.kind === "file" ? at.st : null;
      const open = at.kind === "file" ? at.open : path;
      const where = pathState(row, row.missing !== 0, cur);
      if (where.kind === "not-regular") {
        this.complain("not a regular file", "is not a regular file");
        return true;
      }
      if (where.kind === "absent") {
        if (where.announce) this.markMissing(row, `${path} does not exist; it will be followed from its start when it appears`);
        return true;
      }
      if (where.kind === "appeared") {
        if (!this.followNew(row, open)) {
          const why = whyNotReadable(open);
          this.complain(why, why);
          return true;
        }
        this.complaint = "";
        log.info(`logs: ${path} appeared; following it from its start`);
        continue;
      }
      const fd = this.acquire(row, cur, open);
      const state = followedState(row, cur, fd === null ? null : row);
      if (state.kind === "gone" || fd === null) {
        const lost = `the file ${path} was (dev ${row.dev}, inode ${row.ino}, ${row.offset} bytes read) is gone; lines written to it after that offset could not be read`;
        if (cur) {
          if (!this.followNew(row, open, [noticeEvent(path, lost)])) return true;
          continue;
        }
        this.markMissing(row, `${lost}; ${path} does not exist now and will be followed when it appears`);
        return true;
      }
      this.complaint = "";
      this.checkOwner(fd, row);
      const isCurrent = state.kind === "current";
      if (isCurrent && !(await this.checkTruncation(fd, row))) return false;
      if (!(await this.drain(fd, row, false))) return false;
      if (isCurrent) return true;
      // the followed file is no longer at the path
      const old = facts(fstatSync(fd));
      const move = afterMove({ pathExists: !!cur, old, now: Date.now(), rotationSeen: this.rotationSeen, graceMs: ctx.rotateGraceMs });
      this.rotationSeen = move.rotationSeen;
      if (move.action === "keep") return true; // renamed and not yet re-created: keep following the old file
      if (move.action === "wait") {
        ctx.wakeLater(path, ctx.rotateGraceMs); // the writer may not have reopened yet: keep reading the old file a little longer
        return true;
      }
      if (!(await this.drain(fd, row, true))) return false; // finish it, partial last line included
      // rotated more than once while we were not running: the files in between are not read
      const skipped = this.viaSibling ? skippedRotations(siblingFacts(path), old, cur) : [];
      const notices = skipped.length > 0
        ? [noticeEvent(path, `${path} was rotated more than once while integrityd was not running; not read: ${skipped.join(", ")}`, { files: skipped })]
        : [];
      if (move.action === "deleted") {
        this.switchTo(row, null, null, [...notices, noticeEvent(path, `${path} was deleted; it will be followed from its start when it is re-created`)]);
        return true;
      }
      if (!this.followNew(row, open, notices)) return true;
    }
    return true;
  }

  /** The path is a symbolic link not to be followed: a notice, once per target while it stays so. */
  private refuse(row: LogRow, target: string): void {
    if (this.refused === target) return;
    this.refused = target;
    const why = `${row.path} is a symbolic link to ${target || "(unreadable)"} that is not followed: the link or its directory may be changed by another user than root and the config does not name the target as a log; its content is not read`;
    log.warn(`logs: ${why}`);
    this.commit(row, [noticeEvent(row.path, why, { target })]);
  }

  /** The followed file's owner now against the one recorded: another one is a notice. */
  private checkOwner(fd: number, row: LogRow): void {
    const uid = fstatSync(fd).uid;
    if (uid === row.uid) return;
    const changed = ownerChanged(row.uid, uid);
    const was = row.uid;
    row.uid = uid; // when nothing was recorded: stored with the next commit
    if (changed) this.commit(row, [this.ownerNotice(row.path, was, uid)]);
  }

  private ownerNotice(path: string, was: number, uid: number): LogEvent {
    log.warn(`logs: ${path} now belongs to uid ${uid} (was uid ${was})`);
    return noticeEvent(path, `${path} now belongs to uid ${uid}, not uid ${was} as when it was last read: it was replaced or its owner changed`, { uid, was });
  }

  /**
   * Read the file behind fd from row.offset to its end, a chunk per transaction.
   * With `final` (the file is finished: rotated away or deleted) a partial last
   * line is reported too. The copytruncate recovery passes the copy's fd: the
   * offsets are the same as the followed file's. Returns false when it stopped
   * early (per-pass byte budget used up, or stopping): the log is queued again
   * and the next pass takes up where this one left off.
   */
  private async drain(fd: number, row: LogRow, final: boolean): Promise<boolean> {
    const { ctx } = this;
    const classifier = ctx.classifier(this.spec);
    for (;;) {
      if (ctx.stopped() || this.budget <= 0) return false;
      const size = fstatSync(fd).size;
      if (size <= row.offset) return true;
      const len = Math.min(CHUNK, size - row.offset);
      const buf = pread(fd, len, row.offset);
      if (buf.length === 0) return true;
      this.budget -= buf.length;
      const atEnd = row.offset + buf.length >= size;
      const split = splitLines(buf, row.skipping !== 0, final && atEnd);
      const events: LogEvent[] = [];
      let done = { consumed: split.consumed, skipping: split.skipping };
      let unchecked = 0; // bytes classified since the time slice was last looked at
      for (let i = 0; i < split.lines.length; i++) {
        const l = split.lines[i];
        const line = lineText(buf, l);
        const places = classifier.classify(line);
        if (places.length > 0) events.push(...lineEvents(row.path, reportText(line, l.cut), row.offset + l.start, l.cut, places));
        // bounded work: stop early (the rest is read again next time) when the transaction
        // is getting big or classification is slow; the slice is looked at every 32 lines,
        // and after every line once CHECK_BYTES were classified (long lines cost more)
        unchecked += l.end - l.start;
        if (events.length >= EVENTS_PER_COMMIT || ((((i + 1) & 31) === 0 || unchecked >= CHECK_BYTES) && ((unchecked = 0), ctx.sliceOver()))) {
          done = stateAfter(split, i);
          break;
        }
      }
      if (done.consumed === 0 && events.length === 0) return true; // a partial line waits
      row.tailprint = nextTailprint(row.tailprint, buf.subarray(0, done.consumed));
      row.offset += done.consumed;
      row.skipping = done.skipping ? 1 : 0;
      row.size = Math.max(size, row.offset);
      this.commit(row, events);
      await ctx.maybeYield();
    }
  }

  /** Point the log at a new file (or at nothing), in one transaction with `notices`. */
  private switchTo(row: LogRow, st: Stats | null, fd: number | null, notices: LogEvent[] = []): void {
    safeClose(this.fd);
    this.fd = fd;
    this.fdDev = st?.dev ?? 0;
    this.fdIno = st?.ino ?? 0;
    this.rotationSeen = 0;
    if (st) {
      if (ownerChanged(row.uid, st.uid)) notices = [...notices, this.ownerNotice(row.path, row.uid, st.uid)];
      row.uid = st.uid; // kept while nothing is followed: a re-created file is compared with it
    }
    row.dev = st?.dev ?? 0;
    row.ino = st?.ino ?? 0;
    row.offset = 0;
    row.skipping = 0;
    row.size = st?.size ?? 0;
    row.fingerprint = fd !== null ? head(fd) : null;
    row.tailprint = null;
    row.missing = st ? 0 : 1;
    this.commit(row, notices);
  }

  /** Follow the new file at the path (`open`: the path, or a trusted link's target) from its start (it appeared, or replaced the old one). */
  private followNew(row: LogRow, open: string, notices: LogEvent[] = []): boolean {
    const fd = openRead(open);
    if (fd === null) return false;
    this.switchTo(row, fstatSync(fd), fd, notices);
    return true;
  }

  private markMissing(row: LogRow, text: string): void {
    this.switchTo(row, null, null, [noticeEvent(row.path, text)]);
  }

  /** A problem with the path (`key`), logged once until it changes. */
  private complain(key: string, why: string): void {
    if (this.complaint === key) return;
    this.complaint = key;
    log.warn(`logs: ${this.path} ${why}; not read`);
  }

  /** First sight of a log: start at its end (no history), or note that it is missing. */
  private firstSight(): void {
    const path = this.path;
    const row = newRow(path);
    const at = lookAt(path, this.ctx.named, SELF_UID);
    if (at.kind === "refused") {
      this.refuse(row, at.target); // stored as missing: followed from its start once it is a file we may read
      return;
    }
    const open = at.kind === "file" ? at.open : path;
    const fd = openRead(open);
    const st = fd !== null ? fstatSync(fd) : null;
    if (fd === null || !st) {
      const why = whyNotReadable(open);
      this.commit(row, [noticeEvent(path, `${path} ${why}; it will be followed from its start when it can be read`)]);
      log.notice(`logs: ${path} ${why}; waiting for it`);
      return;
    }
    const from = endWindow(st.size);
    const tail = st.size > 0 ? pread(fd, st.size - from, from) : Buffer.alloc(0);
    const start = startAtEnd(st.size, tail);
    this.fd = fd;
    this.fdDev = st.dev;
    this.fdIno = st.ino;
    Object.assign(row, {
      dev: st.dev, ino: st.ino, uid: st.uid, offset: start.offset, size: st.size, fingerprint: head(fd),
      tailprint: nextTailprint(null, tail.subarray(0, Math.max(0, start.offset - from))), skipping: start.skipping ? 1 : 0, missing: 0,
    });
    this.commit(row, []);
    log.info(`logs: following ${path} from its end (offset ${start.offset}) on first start`);
  }

  /** The descriptor of the file the row follows: the one we hold, the path (`open`), or a rotated sibling. */
  private acquire(row: LogRow, cur: FileFacts | null, open: string): number | null {
    if (this.fd !== null && this.fdDev === row.dev && this.fdIno === row.ino) return this.fd;
    this.close();
    let fd: number | null = null;
    if (cur && cur.dev === row.dev && cur.ino === row.ino) fd = openSame(open, row);
    this.viaSibling = false;
    if (fd === null) {
      fd = findByInode(row.path, row);
      this.viaSibling = fd !== null;
    }
    if (fd !== null) {
      this.fd = fd;
      this.fdDev = row.dev;
      this.fdIno = row.ino;
    }
    return fd;
  }

  /** The followed file is at the path: if it was truncated or rewritten, take what is left in a copy and start again at 0. */
  private async checkTruncation(fd: number, row: LogRow): Promise<boolean> {
    const st = fstatSync(fd);
    const first = head(fd);
    const tp = row.tailprint;
    const beforeOffset = tp && tp.length > 0 && row.offset >= tp.length && st.size >= row.offset ? pread(fd, tp.length, row.offset - tp.length) : null;
    const check = checkHead(row, st.size, first, beforeOffset);
    if (check.kind === "same") {
      row.fingerprint = check.fingerprint; // stored with the next commit
      return true;
    }
    // the bytes from row.offset to the old end may still be in the copy (copytruncate)
    let recovered = "";
    const copy = findCopy(row.path, row, st.ino);
    if (copy !== null) {
      try {
        const before = row.offset;
        if (!(await this.drain(copy, row, true))) return false; // not finished: the next pass finds the copy again
        recovered = ` (${row.offset - before} unread bytes taken from the rotated copy)`;
      } finally {
        safeClose(copy);
      }
    }
    const old = row.offset;
    row.offset = 0;
    row.skipping = 0;
    row.size = st.size;
    row.fingerprint = first;
    row.tailprint = null;
    this.commit(row, [noticeEvent(row.path, `${row.path} was truncated or rewritten (size ${st.size}, had read ${old} bytes); reading it again from the start${recovered}`, { offset: old })]);
    return true;
  }
}
