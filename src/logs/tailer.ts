// The log follower's task: follows every configured `log`, classifies each
// new line with the log's rule set and queues the reported ones (channel "log").
// This file does the I/O and the scheduling only; the decisions are pure and
// tested on their own:
// - lines.ts: cutting bytes into lines (partial and over-long lines, MAX_LINE,
//   CUT_MARKER), where a first start begins, the report text of a line;
// - follow.ts: what the stored file and what stat says now mean (continue,
//   rotated by rename or copytruncate, truncated, replaced, deleted, missing),
//   with the rotation grace times;
// - store.ts: the `logs` table, saved in the same transaction as the events
//   queued for the lines before the new offset (after kill -9 at any point no
//   line is lost and none is queued twice), and the events' shapes;
// - files.ts: opening, positional reads, finding a rotated file next to a log;
// - watch.ts: the directory watches and their debounced wake-ups;
// - status.ts: `logStatus(db)` for `--status`.
//
// First start (a log never seen before): follow it from its current end, so
// the first report is not flooded with history. A log that does not exist
// (yet): one notice; read from the start when it appears.
//
// Wake-ups: a poll every `logchecktime` seconds and fs.watch on each log's
// directory (and a symlinked log's target directory), debounced, so a new line
// is queued well within a second. Work is done in bounded chunks: a yield
// whenever a slice exceeds SLICE_MS, at most EVENTS_PER_COMMIT events per
// transaction, at most PASS_BYTES per log per pass so one flooded log cannot
// starve the others.
//
// Events: channel "log", kind alert|violation|system (one per report section
// the line belongs to, as logcheck lists a line under each matching file) or
// notice (section NOTICE_SECTION: missing/deleted/truncated logs, rule problems,
// embedded rules in use); subject = the log path; text = the escaped line (a cut
// line ends with CUT_MARKER); details = {log, offset, section[, cut]}.
//
// The rule sets (src/rules/reload.ts) are used here only: loaded, refreshed and
// announced in the "rules" part below, asked for a classifier in drain().
//
// Wiring: the daemon registers `createTailTask` as a task factory.
import type { Database } from "bun:sqlite";
import { fstatSync, type Stats } from "node:fs";
import type { Config, LogSpec } from "../config/config.ts";
import type { Task, TaskContext } from "../daemon/task.ts";
import { getMeta, setMeta } from "../db/db.ts";
import { yieldToLoop } from "../util/loop.ts";
import { log } from "../util/log.ts";
import { facts, findByInode, findCopy, head, openRead, openSame, pread, safeClose, siblingFacts, statOrNull, whyNotReadable } from "./files.ts";
import { afterMove, checkHead, type FileFacts, followedState, pathState, ROTATE_GRACE, skippedRotations } from "./follow.ts";
import { DirWatches } from "./watch.ts";
import { endWindow, lineText, reportText, splitLines, startAtEnd, stateAfter } from "./lines.ts";
import { forgetLogs, lineEvents, loadLog, type LogEvent, type LogRow, newRow, noticeEvent, queueEvent, saveLog } from "./store.ts";
import type { Classifier } from "../rules/layers.ts";
import { type LoadedRuleSet, ruleSetKey, RuleSets } from "../rules/reload.ts";

/** Kept until the status reader imports it from ./status.ts. */

/** Bytes read per positional read (must exceed MAX_LINE). */
const CHUNK = 256 * 1024;
/** Bytes one log may read per pass before the other logs get their turn. */
const PASS_BYTES = 8 * 1024 * 1024;
/** Most events queued in one transaction (bounds the time a commit takes). */
const EVENTS_PER_COMMIT = 500;
/** Longest stretch of work before yielding to the event loop. */
const SLICE_MS = 10;
/** Delay between a watch event and the pass it triggers (coalesces bursts). */
const WATCH_DEBOUNCE = 25;
/** Most follow decisions per log per pass (a file replaced again and again cannot hold the pass). */
const MAX_STEPS = 8;

export interface TailOptions {
  /** override ROTATE_GRACE (tests) */
  rotateGraceMs?: number;
}

interface Tracked {
  spec: LogSpec;
  ruleKey: string;
  fd: number | null;
  fdDev: number;
  fdIno: number;
  /** when a rename rotation was first seen while the old file was still being written */
  rotationSeen: number;
  /** problems already reported for this log (e.g. not a regular file) */
  complaint: string;
  /** bytes this pass may still read (fairness between logs) */
  budget: number;
  /** the followed file was found next to the log by inode (we were not running when it was rotated) */
  viaSibling: boolean;
}

/** Seconds to a timer delay (timers overflow above 2^31-1 ms). */
const ms = (s: number) => Math.max(10, Math.min(2 ** 31 - 1, Math.round(s * 1000)));

export interface TailTask extends Task {
  /** Run a pass over every log now; resolves when the tailer is idle again (tests, --once style use). */
  settle(): Promise<void>;
}

export function createTailTask(ctx: TaskContext, opts: TailOptions = {}): TailTask {
  const db: Database = ctx.db;
  let config: Config = ctx.config;
  const rotateGrace = opts.rotateGraceMs ?? ROTATE_GRACE;
  const rules = new RuleSets();
  const tracked = new Map<string, Tracked>();
  const reportedProblems = new Set<string>();
  let stopped = false;
  let pollTimer: ReturnType<typeof setTimeout> | null = null;
  let ruleTimer: ReturnType<typeof setInterval> | null = null;
  const pending = new Set<string>();
  let running: Promise<void> | null = null;
  let sliceStart = performance.now();

  const maybeYield = async () => {
    if (performance.now() - sliceStart > SLICE_MS) {
      await yieldToLoop();
      sliceStart = performance.now();
    }
  };

  const commit = (row: LogRow, events: readonly LogEvent[]) => saveLog(db, row, events, Date.now());

  // ---- rules

  const reportRuleSet = (s: LoadedRuleSet) => {
    const fresh = s.problems.filter((p) => !reportedProblems.has(p));
    if (s.embedded) {
      const key = `logs.embedded-notice.${s.home}`;
      if (getMeta(db, key) !== "1") {
        const msg = `rules home ${s.home} does not exist; using the embedded default rules`;
        log.notice(msg);
        db.transaction(() => {
          queueEvent(db, noticeEvent(s.home, msg, { rules: s.home }));
          setMeta(db, key, "1");
        })();
      }
    } else {
      try {
        db.query("DELETE FROM meta WHERE key = ?").run(`logs.embedded-notice.${s.home}`);
      } catch {
        /* nothing to forget */
      }
    }
    for (const r of s.risky) {
      if (reportedProblems.has(r)) continue;
      reportedProblems.add(r);
      log.info(`rules: slower engine for ${r}`);
    }
    if (fresh.length === 0) return;
    for (const p of fresh) {
      reportedProblems.add(p);
      log.warn(`rules: ${p}`);
    }
    db.transaction(() => {
      for (const p of fresh) queueEvent(db, noticeEvent(s.home, `rule problem (rule skipped, the others apply): ${p}`, { rules: s.home }));
    })();
  };

  const announced = new WeakSet<LoadedRuleSet>();
  const classifierFor = (t: Tracked): Classifier => {
    const s = rules.get({ home: t.spec.rules, level: t.spec.level, crackingignore: config.crackingignore });
    if (!announced.has(s)) {
      announced.add(s);
      reportRuleSet(s);
    }
    return s.classifier;
  };

  let refreshing: Promise<void> | null = null;
  const refreshRules = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (refreshing) return refreshing;
    refreshing = (async () => {
      try {
        for (const s of await rules.refresh()) {
          if (stopped) return;
          log.info(`rules: reloaded ${s.home} (${s.level})`);
          announced.add(s);
          reportRuleSet(s);
        }
      } catch (e) {
        log.error(`rules: reload failed: ${(e as Error).message}`);
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  };

  // ---- reading

  /**
   * Read the file behind fd from row.offset to its end, a chunk per transaction.
   * With `final` (the file is finished: rotated away or deleted) a partial last
   * line is reported too. The copytruncate recovery passes the copy's fd: the
   * offsets are the same as the followed file's. Returns false when it stopped
   * early (per-pass byte budget used up, or stopping): the log is queued again
   * and the next pass takes up where this one left off.
   */
  const drain = async (t: Tracked, fd: number, row: LogRow, final: boolean): Promise<boolean> => {
    const classifier = classifierFor(t);
    for (;;) {
      if (stopped || t.budget <= 0) return false;
      const size = fstatSync(fd).size;
      if (size <= row.offset) return true;
      const len = Math.min(CHUNK, size - row.offset);
      const buf = pread(fd, len, row.offset);
      if (buf.length === 0) return true;
      t.budget -= buf.length;
      const atEnd = row.offset + buf.length >= size;
      const split = splitLines(buf, row.skipping !== 0, final && atEnd);
      const events: LogEvent[] = [];
      let done = { consumed: split.consumed, skipping: split.skipping };
      for (let i = 0; i < split.lines.length; i++) {
        const l = split.lines[i];
        const line = lineText(buf, l);
        const places = classifier.classify(line);
        if (places.length > 0) events.push(...lineEvents(row.path, reportText(line, l.cut), row.offset + l.start, l.cut, places));
        // bounded work: stop early (the rest is read again next time) when the transaction
        // is getting big or classification is slow
        if (events.length >= EVENTS_PER_COMMIT || (((i + 1) & 31) === 0 && performance.now() - sliceStart > SLICE_MS)) {
          done = stateAfter(split, i);
          break;
        }
      }
      if (done.consumed === 0 && events.length === 0) return true; // a partial line waits
      row.offset += done.consumed;
      row.skipping = done.skipping ? 1 : 0;
      row.size = Math.max(size, row.offset);
      commit(row, events);
      await maybeYield();
    }
  };

  /** Point the log at a new file (or at nothing), in one transaction with `notices`. */
  const switchTo = (t: Tracked, row: LogRow, st: Stats | null, fd: number | null, notices: LogEvent[] = []) => {
    safeClose(t.fd);
    t.fd = fd;
    t.fdDev = st?.dev ?? 0;
    t.fdIno = st?.ino ?? 0;
    t.rotationSeen = 0;
    row.dev = st?.dev ?? 0;
    row.ino = st?.ino ?? 0;
    row.offset = 0;
    row.skipping = 0;
    row.size = st?.size ?? 0;
    row.fingerprint = fd !== null ? head(fd) : null;
    row.missing = st ? 0 : 1;
    commit(row, notices);
  };

  /** Follow the new file at the path from its start (it appeared, or replaced the old one). */
  const followNew = (t: Tracked, row: LogRow, notices: LogEvent[] = []): boolean => {
    const fd = openRead(row.path);
    if (fd === null) return false;
    const st = fstatSync(fd);
    if (!st.isFile()) {
      safeClose(fd);
      return false;
    }
    switchTo(t, row, st, fd, notices);
    return true;
  };

  const markMissing = (t: Tracked, row: LogRow, text: string) => {
    switchTo(t, row, null, null, [noticeEvent(row.path, text)]);
  };

  /** A problem with the path (`key`), logged once until it changes. */
  const complain = (t: Tracked, key: string, why: string) => {
    if (t.complaint === key) return;
    t.complaint = key;
    log.warn(`logs: ${t.spec.path} ${why}; not read`);
  };

  /** First sight of a log: start at its end (no history), or note that it is missing. */
  const firstSight = (t: Tracked) => {
    const path = t.spec.path;
    const row = newRow(path);
    const fd = openRead(path);
    const st = fd !== null ? fstatSync(fd) : null;
    if (fd === null || !st || !st.isFile()) {
      safeClose(fd);
      const why = whyNotReadable(path);
      commit(row, [noticeEvent(path, `${path} ${why}; it will be followed from its start when it can be read`)]);
      log.notice(`logs: ${path} ${why}; waiting for it`);
      return;
    }
    const from = endWindow(st.size);
    const start = startAtEnd(st.size, st.size > 0 ? pread(fd, st.size - from, from) : Buffer.alloc(0));
    t.fd = fd;
    t.fdDev = st.dev;
    t.fdIno = st.ino;
    Object.assign(row, {
      dev: st.dev, ino: st.ino, offset: start.offset, size: st.size, fingerprint: head(fd), skipping: start.skipping ? 1 : 0, missing: 0,
    });
    commit(row, []);
    log.info(`logs: following ${path} from its end (offset ${start.offset}) on first start`);
  };

  /** The descriptor of the file the row follows: the one we hold, the path, or a rotated sibling. */
  const acquire = (t: Tracked, row: LogRow, cur: FileFacts | null): number | null => {
    if (t.fd !== null && t.fdDev === row.dev && t.fdIno === row.ino) return t.fd;
    safeClose(t.fd);
    t.fd = null;
    let fd: number | null = null;
    if (cur && cur.dev === row.dev && cur.ino === row.ino) fd = openSame(row.path, row);
    t.viaSibling = false;
    if (fd === null) {
      fd = findByInode(row.path, row);
      t.viaSibling = fd !== null;
    }
    if (fd !== null) {
      t.fd = fd;
      t.fdDev = row.dev;
      t.fdIno = row.ino;
    }
    return fd;
  };

  /** The followed file is at the path: if it was truncated or rewritten, take what is left in a copy and start again at 0. */
  const checkTruncation = async (t: Tracked, fd: number, row: LogRow): Promise<boolean> => {
    const st = fstatSync(fd);
    const first = head(fd);
    const check = checkHead(row, st.size, first);
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
        if (!(await drain(t, copy, row, true))) return false; // not finished: the next pass finds the copy again
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
    commit(row, [noticeEvent(row.path, `${row.path} was truncated or rewritten (size ${st.size}, had read ${old} bytes); reading it again from the start${recovered}`, { offset: old })]);
    return true;
  };

  /** One pass over one log. Returns false when it stopped early and should run again soon. */
  const processLog = async (t: Tracked): Promise<boolean> => {
    const path = t.spec.path;
    t.budget = PASS_BYTES;
    const row = loadLog(db, path);
    if (!row) {
      firstSight(t); // nothing to read yet: it starts at the end, or the log is missing
      return true;
    }
    for (let step = 0; step < MAX_STEPS && !stopped; step++) {
      const curSt = statOrNull(path);
      const cur = curSt ? facts(curSt) : null;
      const where = pathState(row, row.missing !== 0, cur);
      if (where.kind === "not-regular") {
        complain(t, "not a regular file", "is not a regular file");
        return true;
      }
      if (where.kind === "absent") {
        if (where.announce) markMissing(t, row, `${path} does not exist; it will be followed from its start when it appears`);
        return true;
      }
      if (where.kind === "appeared") {
        if (!followNew(t, row)) {
          const why = whyNotReadable(path);
          complain(t, why, why);
          return true;
        }
        t.complaint = "";
        log.info(`logs: ${path} appeared; following it from its start`);
        continue;
      }
      const fd = acquire(t, row, cur);
      const state = followedState(row, cur, fd === null ? null : row);
      if (state.kind === "gone" || fd === null) {
        const lost = `the file ${path} was (dev ${row.dev}, inode ${row.ino}, ${row.offset} bytes read) is gone; lines written to it after that offset could not be read`;
        if (cur) {
          if (!followNew(t, row, [noticeEvent(path, lost)])) return true;
          continue;
        }
        markMissing(t, row, `${lost}; ${path} does not exist now and will be followed when it appears`);
        return true;
      }
      t.complaint = "";
      const isCurrent = state.kind === "current";
      if (isCurrent && !(await checkTruncation(t, fd, row))) return false;
      if (!(await drain(t, fd, row, false))) return false;
      if (isCurrent) return true;
      // the followed file is no longer at the path
      const old = facts(fstatSync(fd));
      const move = afterMove({ pathExists: !!cur, old, now: Date.now(), rotationSeen: t.rotationSeen, graceMs: rotateGrace });
      t.rotationSeen = move.rotationSeen;
      if (move.action === "keep") return true; // renamed and not yet re-created: keep following the old file
      if (move.action === "wait") {
        wakeLater(path, rotateGrace); // the writer may not have reopened yet: keep reading the old file a little longer
        return true;
      }
      if (!(await drain(t, fd, row, true))) return false; // finish it, partial last line included
      // rotated more than once while we were not running: the files in between are not read
      const skipped = t.viaSibling ? skippedRotations(siblingFacts(path), old, cur) : [];
      const notices = skipped.length > 0
        ? [noticeEvent(path, `${path} was rotated more than once while integrityd was not running; not read: ${skipped.join(", ")}`, { files: skipped })]
        : [];
      if (move.action === "deleted") {
        switchTo(t, row, null, null, [...notices, noticeEvent(path, `${path} was deleted; it will be followed from its start when it is re-created`)]);
        return true;
      }
      if (!followNew(t, row, notices)) return true;
    }
    return true;
  };

  // ---- scheduling

  const run = async () => {
    sliceStart = performance.now();
    while (pending.size > 0 && !stopped) {
      const batch = [...pending];
      pending.clear();
      for (const p of batch) {
        const t = tracked.get(p);
        if (!t || stopped) continue;
        try {
          // load the rule set now, compiled in slices (the event loop stays free);
          // its problems are reported at start, not at the first line
          await rules.ensure({ home: t.spec.rules, level: t.spec.level, crackingignore: config.crackingignore });
          if (stopped || !tracked.has(p)) continue;
          classifierFor(t);
          if (!(await processLog(t)) && !stopped) pending.add(p); // more to read: after the other logs
        } catch (e) {
          log.error(`logs: ${p}: ${(e as Error).message}`);
          safeClose(t.fd);
          t.fd = null;
        }
        await maybeYield();
      }
    }
  };

  const wake = (paths: Iterable<string>) => {
    for (const p of paths) pending.add(p);
    if (running || stopped) return running ?? Promise.resolve();
    running = run().finally(() => {
      running = null;
      if (pending.size > 0 && !stopped) wake([]);
    });
    return running;
  };

  const wakeLater = (path: string, ms: number) => {
    setTimeout(() => wake([path]), ms);
  };

  const watches = new DirWatches(WATCH_DEBOUNCE, (paths) => void wake(paths));
  const ensureWatchers = () => watches.update(tracked.keys());

  const poll = () => {
    pollTimer = null;
    if (stopped) return;
    ensureWatchers();
    void wake(tracked.keys());
    pollTimer = setTimeout(poll, ms(config.logchecktime));
  };

  const apply = (c: Config) => {
    config = c;
    const want = new Map<string, LogSpec>();
    for (const s of c.logs) {
      if (want.has(s.path)) log.warn(`logs: ${c.file}:${s.line}: ${s.path} is listed twice; the first entry applies`);
      else want.set(s.path, s);
    }
    for (const [p, t] of tracked) {
      if (!want.has(p)) {
        safeClose(t.fd);
        tracked.delete(p);
      }
    }
    const keys = new Set<string>();
    for (const [p, s] of want) {
      const ruleKey = ruleSetKey({ home: s.rules, level: s.level, crackingignore: c.crackingignore });
      keys.add(ruleKey);
      const t = tracked.get(p);
      if (t) {
        t.spec = s;
        t.ruleKey = ruleKey;
      } else {
        tracked.set(p, { spec: s, ruleKey, fd: null, fdDev: 0, fdIno: 0, rotationSeen: 0, complaint: "", budget: 0, viaSibling: false });
      }
    }
    rules.retain(keys);
    forgetLogs(db, (p) => want.has(p)); // logs no longer configured (if configured again, they start at their end)
    if (ruleTimer) clearInterval(ruleTimer);
    ruleTimer = setInterval(refreshRules, ms(c.logruleupdate));
    if (pollTimer) clearTimeout(pollTimer);
    poll();
  };

  apply(config);

  return {
    name: "logs",
    reload(c: Config) {
      if (stopped) return;
      // a changed rules home or level: the rule set is reloaded from scratch
      apply(c);
      refreshRules();
    },
    async settle() {
      if (refreshing) await refreshing;
      ensureWatchers();
      await wake(tracked.keys());
      while (running) await running;
    },
    async stop() {
      stopped = true;
      if (pollTimer) clearTimeout(pollTimer);
      if (ruleTimer) clearInterval(ruleTimer);
      watches.close();
      while (running) await running;
      for (const t of tracked.values()) safeClose(t.fd);
    },
  };
}
