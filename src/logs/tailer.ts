// The log tailer: follows every configured `log`, classifies each new line with
// the log's rule set and queues the reported ones (channel "log").
//
// Durability. Per log the database holds the file being followed (dev, inode),
// the byte offset of the first line not yet classified, a fingerprint (the first
// FP_LEN bytes of the file) and whether we are inside an over-long line. That
// row is updated in the SAME transaction as the events queued for the lines
// before the new offset, so after kill -9 at any point no line is lost and none
// is queued twice.
//
// Files are read as bytes with positional reads; a line is a latin1 string (one
// char per byte), so NUL bytes and invalid UTF-8 pass through; the report text
// is escaped. A line without its newline waits until it is complete (or until
// the file is finished: rotated away or deleted). A line longer than MAX_LINE is
// reported cut, with a marker; the rest up to its newline is skipped in bounded
// reads, whatever its length.
//
// Rotation and friends, decided on every pass by comparing the file we follow
// with what the path names now:
// - rename + create: the path names a new inode. The old file is finished first
//   (read to its end through the descriptor we hold or, after a restart, found
//   by inode next to the log: NAME.1, NAME.0, NAME-YYYYMMDD, ... and checked
//   against the fingerprint), then the new file is followed from offset 0. While
//   the old file was written less than ROTATE_GRACE ago (the writer has not
//   reopened yet) we keep reading it, for at most ROTATE_MAX_WAIT.
// - copytruncate: same inode, size below our offset, or first bytes changed.
//   The unread tail is taken from the copy when one is found next to the log
//   (same first bytes, long enough); then we start again at 0 and queue a notice.
// - deletion: the path is gone and the file we hold has no link left: finish it,
//   queue a notice, wait for re-creation (then read it from the start).
// - a log that does not exist (yet): one notice; read from the start when it appears.
// - first start (a log never seen before): follow it from its current end, so
//   the first report is not flooded with history.
//
// Wake-ups: a poll every `logchecktime` seconds and fs.watch on each log's
// directory (and a symlinked log's target directory), debounced, so a new line
// is queued well within a second. Work is done in bounded chunks (a yield
// whenever a slice exceeds SLICE_MS, at most MAX_EVENTS per transaction, at most
// PASS_BYTES per log per pass so one flooded log cannot starve the others).
//
// Events: channel "log", kind alert|violation|system (one per report section
// the line belongs to, as logcheck lists a line under each matching file) or
// notice (section NOTICE_SECTION: missing/deleted/truncated logs, rule problems,
// embedded rules in use); subject = the log path; text = the escaped line (a cut
// line ends with CUT_MARKER); details = {log, offset, section[, cut]}.
//
// Wiring: the daemon registers `createTailTask` as a task factory; `--status`
// shows `logStatus(db)`.
import type { Database } from "bun:sqlite";
import {
  closeSync, constants, fstatSync, openSync, readdirSync, readSync, realpathSync, statSync, watch,
  type FSWatcher, type Stats,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Config, LogSpec } from "../config/config.ts";
import type { Task, TaskContext } from "../daemon/task.ts";
import { yieldToLoop } from "../util/loop.ts";
import { getMeta, setMeta } from "../db/db.ts";
import { enqueue } from "../db/events.ts";
import { escapeLatin1, escapeString } from "../util/escape.ts";
import { log } from "../util/log.ts";
import { type Classifier, type LoadedRuleSet, ruleSetKey, RuleSets } from "./tailer-rules.ts";

/** Longest line reported as is; longer ones are cut with CUT_MARKER. */
export const MAX_LINE = 65536;
export const CUT_MARKER = ` [integrityd: line cut, longer than ${MAX_LINE} bytes]`;
/** Bytes read per positional read (must exceed MAX_LINE). */
const CHUNK = 256 * 1024;
/** Bytes one log may read per pass before the other logs get their turn. */
const PASS_BYTES = 8 * 1024 * 1024;
/** Bytes of the file start kept as its fingerprint. */
const FP_LEN = 256;
/** Most events queued in one transaction (bounds the time a commit takes). */
const MAX_EVENTS = 500;
/** Printable ASCII without backslash: escaping would not change it. */
const PLAIN = /^[\x20-\x5b\x5d-\x7e]*$/;
/** Longest stretch of work before yielding to the event loop. */
const SLICE_MS = 10;
/** Section title of the tailer's own notices (missing log, truncation, rule problems). */
export const NOTICE_SECTION = "Log Monitoring Notices";
/** After a rename rotation, keep reading the old file while it was written this recently. */
const ROTATE_GRACE = 1000;
/** ... but for at most this long after the rotation was seen. */
const ROTATE_MAX_WAIT = 10_000;
/** Delay between a watch event and the pass it triggers (coalesces bursts). */
const WATCH_DEBOUNCE = 25;

export interface TailOptions {
  /** override ROTATE_GRACE (tests) */
  rotateGraceMs?: number;
}

interface LogRow {
  path: string;
  dev: number;
  ino: number; // 0: no file followed (missing)
  offset: number;
  size: number;
  fingerprint: Uint8Array | null;
  skipping: number;
  missing: number;
  updated: number;
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

interface Pending {
  kind: string;
  section: string;
  text: string;
  urgent: boolean;
  details: Record<string, unknown>;
}

// ---------------------------------------------------------------- database

function getRow(db: Database, path: string): LogRow | null {
  return db.query("SELECT path, dev, ino, offset, size, fingerprint, skipping, missing, updated FROM logs WHERE path = ?").get(path) as LogRow | null;
}

function putRow(db: Database, r: LogRow): void {
  db.query(
    `INSERT INTO logs (path, dev, ino, offset, size, fingerprint, skipping, missing, updated)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (path) DO UPDATE SET dev = excluded.dev, ino = excluded.ino, offset = excluded.offset,
       size = excluded.size, fingerprint = excluded.fingerprint, skipping = excluded.skipping,
       missing = excluded.missing, updated = excluded.updated`,
  ).run(r.path, r.dev, r.ino, r.offset, r.size, r.fingerprint, r.skipping, r.missing, r.updated);
}

export interface LogStatusRow {
  path: string;
  /** bytes of the followed file already classified */
  offset: number;
  /** current size of the file at the path (null when it does not exist) */
  size: number | null;
  missing: boolean;
  /** time of the last state change (ms) */
  updated: number;
}

/** One row per followed log, for `--status` (read-only; safe while the daemon runs). */
export function logStatus(db: Database): LogStatusRow[] {
  let rows: LogRow[];
  try {
    rows = db.query("SELECT path, dev, ino, offset, size, missing, updated FROM logs ORDER BY path").all() as LogRow[];
  } catch {
    return [];
  }
  return rows.map((r) => {
    const size = statOrNull(r.path)?.size ?? null;
    return { path: r.path, offset: r.offset, size, missing: r.missing !== 0, updated: r.updated };
  });
}

// ---------------------------------------------------------------- file helpers

function statOrNull(p: string): Stats | null {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}

function pread(fd: number, len: number, pos: number): Buffer {
  const buf = Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, buf, got, len - got, pos + got);
    if (n <= 0) break;
    got += n;
  }
  return got === len ? buf : buf.subarray(0, got);
}

function openRead(p: string): number | null {
  try {
    return openSync(p, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    return null;
  }
}

function safeClose(fd: number | null): void {
  if (fd === null) return;
  try {
    closeSync(fd);
  } catch {
    /* already closed */
  }
}

/** Why a log cannot be followed, for a notice: "does not exist (yet)", "is not a regular file", "cannot be read (EACCES)". */
function whyNotReadable(p: string): string {
  let st: Stats;
  try {
    st = statSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" || code === "ENOTDIR" ? "does not exist (yet)" : `cannot be read (${code ?? "error"})`;
  }
  if (!st.isFile()) return "is not a regular file";
  try {
    closeSync(openSync(p, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY));
    return "could not be opened";
  } catch (e) {
    return `cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`;
  }
}

/** Does `head` (the file's first bytes now) agree with the stored fingerprint on their common length? */
function fpAgrees(fp: Uint8Array | null, head: Uint8Array): boolean {
  if (!fp) return true;
  const n = Math.min(fp.length, head.length);
  for (let i = 0; i < n; i++) if (fp[i] !== head[i]) return false;
  return true;
}

function fpMatchesFully(fp: Uint8Array | null, head: Uint8Array): boolean {
  return !!fp && fp.length > 0 && head.length >= fp.length && fpAgrees(fp, head);
}

/** Rotated siblings of a log: NAME.1, NAME.0, NAME-20240101, NAME_old, ... (not NAME itself). */
function siblings(path: string): string[] {
  const dir = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names) {
    if (n === base || !n.startsWith(base)) continue;
    const c = n.charAt(base.length);
    if (c === "." || c === "-" || c === "_") out.push(join(dir, n));
  }
  // plain numbered and dated names first (the usual places), then the rest
  const rank = (p: string) => (/\.(0|1)$/.test(p) ? 0 : /[-.]\d{8}$/.test(p) ? 1 : 2);
  return out.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Rotated files next to the log written after the one we just finished (old)
 * and not the current log: after several rotations while we were not running,
 * these hold lines we could not read. Compressed ones are included.
 */
function newerRotated(path: string, old: Stats, cur: Stats | null): string[] {
  const out: string[] = [];
  for (const p of siblings(path)) {
    const st = statOrNull(p);
    if (!st || !st.isFile() || (st.dev === old.dev && st.ino === old.ino)) continue;
    if (cur && st.dev === cur.dev && st.ino === cur.ino) continue;
    if (st.mtimeMs > old.mtimeMs) out.push(basename(p));
  }
  return out.sort();
}

/** Strip trailing POSIX [[:space:]] (C locale) without a backtracking regex. */
function rstrip(s: string): string {
  let e = s.length;
  while (e > 0) {
    const c = s.charCodeAt(e - 1);
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) e--;
    else break;
  }
  return e === s.length ? s : s.slice(0, e);
}

/** Seconds to a timer delay (timers overflow above 2^31-1 ms). */
const ms = (s: number) => Math.max(10, Math.min(2 ** 31 - 1, Math.round(s * 1000)));


// ---------------------------------------------------------------- the task

export interface TailTask extends Task {
  /** Run a pass over every log now; resolves when the tailer is idle again (tests, --once style use). */
  settle(): Promise<void>;
}

export function createTailTask(ctx: TaskContext, opts: TailOptions = {}): TailTask {
  const db = ctx.db;
  let config: Config = ctx.config;
  const rotateGrace = opts.rotateGraceMs ?? ROTATE_GRACE;
  const rules = new RuleSets();
  const tracked = new Map<string, Tracked>();
  const watchers = new Map<string, FSWatcher | null>();
  const watchedIds = new Map<string, string>(); // dir -> "dev:ino" it had when the watch was set
  const reportedProblems = new Set<string>();
  let stopped = false;
  let pollTimer: ReturnType<typeof setTimeout> | null = null;
  let ruleTimer: ReturnType<typeof setInterval> | null = null;
  let debounce: ReturnType<typeof setTimeout> | null = null;
  const pending = new Set<string>();
  let running: Promise<void> | null = null;
  let sliceStart = performance.now();

  const maybeYield = async () => {
    if (performance.now() - sliceStart > SLICE_MS) {
      await yieldToLoop();
      sliceStart = performance.now();
    }
  };

  const notice = (subject: string, text: string, details: Record<string, unknown> = {}) => {
    enqueue(db, {
      channel: "log", kind: "notice", section: NOTICE_SECTION, subject: escapeString(subject),
      text: escapeString(text), details: { log: subject, ...details },
    });
  };

  // ---- rules

  const reportRuleSet = (s: LoadedRuleSet) => {
    const fresh = s.problems.filter((p) => !reportedProblems.has(p));
    if (s.embedded) {
      const key = `logs.embedded-notice.${s.home}`;
      if (getMeta(db, key) !== "1") {
        const msg = `rules home ${s.home} does not exist; using the embedded default rules`;
        log.notice(msg);
        db.transaction(() => {
          notice(s.home, msg, { rules: s.home });
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
      for (const p of fresh) notice(s.home, `rule problem (rule skipped, the others apply): ${p}`, { rules: s.home });
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

  /** Classify complete lines of buf (file bytes from `base`) and return what to queue. */
  const parse = (
    buf: Buffer, base: number, row: LogRow, classifier: Classifier, final: boolean,
  ): { events: Pending[]; consumed: number; skipping: boolean } => {
    const events: Pending[] = [];
    let pos = 0;
    let skipping = row.skipping !== 0;
    const emit = (start: number, end: number, cut: boolean) => {
      const line = rstrip(buf.toString("latin1", start, end));
      const places = classifier.classify(line);
      if (places.length === 0) return; // ignored
      const text = (PLAIN.test(line) ? line : escapeLatin1(line)) + (cut ? CUT_MARKER : "");
      for (const v of places) {
        // as in logcheck, a line matched by several cracking.d/violations.d files is listed under each
        events.push({
          kind: v.kind, section: v.section, urgent: v.kind === "alert", text,
          details: { log: row.path, offset: base + start, section: v.section, ...(cut ? { cut: true } : {}) },
        });
      }
    };
    if (skipping) {
      const nl = buf.indexOf(10);
      if (nl < 0) return { events, consumed: buf.length, skipping: true };
      pos = nl + 1;
      skipping = false;
    }
    let n = 0;
    for (;;) {
      const nl = buf.indexOf(10, pos);
      if (nl < 0) break;
      if (nl - pos > MAX_LINE) emit(pos, pos + MAX_LINE, true);
      else emit(pos, nl, false);
      pos = nl + 1;
      // bounded work: stop early (the rest is read again next time) when classification is slow
      // or the transaction is getting big
      if (events.length >= MAX_EVENTS || ((++n & 31) === 0 && performance.now() - sliceStart > SLICE_MS)) {
        return { events, consumed: pos, skipping: false };
      }
    }
    const rest = buf.length - pos;
    if (rest > MAX_LINE) {
      emit(pos, pos + MAX_LINE, true);
      return { events, consumed: buf.length, skipping: true };
    }
    if (final && rest > 0) {
      emit(pos, buf.length, false);
      return { events, consumed: buf.length, skipping: false };
    }
    return { events, consumed: pos, skipping: false };
  };

  const commit = (row: LogRow, events: Pending[], extra?: () => void) => {
    db.transaction(() => {
      for (const e of events) {
        enqueue(db, {
          channel: "log", kind: e.kind, section: e.section, subject: escapeString(row.path), text: e.text,
          urgent: e.urgent, details: e.details,
        });
      }
      extra?.();
      row.updated = Date.now();
      putRow(db, row);
    })();
  };

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
      const r = parse(buf, row.offset, row, classifier, final && atEnd);
      if (r.consumed === 0 && r.events.length === 0) return true; // a partial line waits
      row.offset += r.consumed;
      row.skipping = r.skipping ? 1 : 0;
      row.size = Math.max(size, row.offset);
      commit(row, r.events);
      await maybeYield();
    }
  };

  /** Find a rename-rotated file by (dev, ino) next to the log, checked against the fingerprint. */
  const findByInode = (row: LogRow): number | null => {
    for (const p of siblings(row.path)) {
      const st = statOrNull(p);
      if (!st || !st.isFile() || st.dev !== row.dev || st.ino !== row.ino) continue;
      const fd = openRead(p);
      if (fd === null) continue;
      const fst = fstatSync(fd);
      if (fst.dev === row.dev && fst.ino === row.ino && fpAgrees(row.fingerprint, pread(fd, FP_LEN, 0))) return fd;
      safeClose(fd);
    }
    return null;
  };

  /** After copytruncate: the copy holding the bytes we had not read yet, if one is next to the log. */
  const findCopy = (row: LogRow, truncatedIno: number): number | null => {
    if (!row.fingerprint || row.fingerprint.length === 0) return null;
    for (const p of siblings(row.path)) {
      const st = statOrNull(p);
      if (!st || !st.isFile() || st.ino === truncatedIno || st.size < row.offset) continue;
      const fd = openRead(p);
      if (fd === null) continue;
      if (fpMatchesFully(row.fingerprint, pread(fd, row.fingerprint.length, 0)) && fstatSync(fd).size >= row.offset) return fd;
      safeClose(fd);
    }
    return null;
  };

  /** Point the log at a new file (or at nothing), in one transaction with `extra`. */
  const switchTo = (t: Tracked, row: LogRow, st: Stats | null, fd: number | null, extra?: () => void) => {
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
    row.fingerprint = fd !== null ? pread(fd, FP_LEN, 0) : null;
    row.missing = st ? 0 : 1;
    commit(row, [], extra);
  };

  /** Follow the new file at the path from its start (it appeared, or replaced the old one). */
  const followNew = (t: Tracked, row: LogRow, extra?: () => void): boolean => {
    const fd = openRead(row.path);
    if (fd === null) return false;
    const st = fstatSync(fd);
    if (!st.isFile()) {
      safeClose(fd);
      return false;
    }
    switchTo(t, row, st, fd, extra);
    return true;
  };

  const markMissing = (t: Tracked, row: LogRow, text: string) => {
    switchTo(t, row, null, null, () => notice(row.path, text));
  };

  /** First sight of a log: start at its end (no history), or note that it is missing. */
  const firstSight = (t: Tracked) => {
    const path = t.spec.path;
    const row: LogRow = { path, dev: 0, ino: 0, offset: 0, size: 0, fingerprint: null, skipping: 0, missing: 1, updated: 0 };
    const fd = openRead(path);
    const st = fd !== null ? fstatSync(fd) : null;
    if (fd === null || !st || !st.isFile()) {
      safeClose(fd);
      const why = whyNotReadable(path);
      commit(row, [], () => notice(path, `${path} ${why}; it will be followed from its start when it can be read`));
      log.notice(`logs: ${path} ${why}; waiting for it`);
      return;
    }
    // start after the last complete line; inside an over-long last line: skip its rest
    let offset = st.size;
    let skipping = 0;
    if (st.size > 0) {
      const from = Math.max(0, st.size - (MAX_LINE + 1));
      const tail = pread(fd, st.size - from, from);
      const nl = tail.lastIndexOf(10);
      if (nl >= 0) offset = from + nl + 1;
      else if (from === 0) offset = 0;
      else skipping = 1;
    }
    t.fd = fd;
    t.fdDev = st.dev;
    t.fdIno = st.ino;
    Object.assign(row, { dev: st.dev, ino: st.ino, offset, size: st.size, fingerprint: pread(fd, FP_LEN, 0), skipping, missing: 0 });
    commit(row, []);
    log.info(`logs: following ${path} from its end (offset ${offset}) on first start`);
  };

  /** The descriptor of the file the row follows: the one we hold, the path, or a rotated sibling. */
  const acquire = (t: Tracked, row: LogRow, cur: Stats | null): number | null => {
    if (t.fd !== null && t.fdDev === row.dev && t.fdIno === row.ino) return t.fd;
    safeClose(t.fd);
    t.fd = null;
    let fd: number | null = null;
    if (cur && cur.dev === row.dev && cur.ino === row.ino) {
      fd = openRead(row.path);
      if (fd !== null) {
        const st = fstatSync(fd);
        if (st.dev !== row.dev || st.ino !== row.ino) {
          safeClose(fd);
          fd = null;
        }
      }
    }
    t.viaSibling = false;
    if (fd === null) {
      fd = findByInode(row);
      t.viaSibling = fd !== null;
    }
    if (fd !== null) {
      t.fd = fd;
      t.fdDev = row.dev;
      t.fdIno = row.ino;
    }
    return fd;
  };

  /** Same inode, but truncated (size below offset) or rewritten (first bytes changed). */
  const checkTruncation = async (t: Tracked, fd: number, row: LogRow): Promise<boolean> => {
    const st = fstatSync(fd);
    const head = pread(fd, FP_LEN, 0);
    const agrees = fpAgrees(row.fingerprint, head);
    if (st.size >= row.offset && agrees) {
      if (head.length > (row.fingerprint?.length ?? 0)) row.fingerprint = head; // stored with the next commit
      return true;
    }
    // the bytes from row.offset to the old end may still be in the copy (copytruncate)
    let recovered = "";
    const copy = findCopy(row, st.ino);
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
    row.fingerprint = head;
    commit(row, [], () =>
      notice(row.path, `${row.path} was truncated or rewritten (size ${st.size}, had read ${old} bytes); reading it again from the start${recovered}`, { offset: old }));
    return true;
  };

  /** One pass over one log. Returns false when it stopped early and should run again soon. */
  const processLog = async (t: Tracked): Promise<boolean> => {
    const path = t.spec.path;
    t.budget = PASS_BYTES;
    const row = getRow(db, path);
    if (!row) {
      firstSight(t); // nothing to read yet: it starts at the end, or the log is missing
      return true;
    }
    for (let step = 0; step < 8 && !stopped; step++) {
      const cur = statOrNull(path);
      if (cur && !cur.isFile()) {
        const c = "not a regular file";
        if (t.complaint !== c) {
          t.complaint = c;
          log.warn(`logs: ${path} is not a regular file; not read`);
        }
        return true;
      }
      if (row.ino === 0) {
        if (!cur) {
          if (!row.missing) markMissing(t, row, `${path} does not exist; it will be followed from its start when it appears`);
          return true;
        }
        if (!followNew(t, row)) {
          const c = whyNotReadable(path);
          if (t.complaint !== c) {
            t.complaint = c;
            log.warn(`logs: ${path} ${c}; not read`);
          }
          return true;
        }
        t.complaint = "";
        log.info(`logs: ${path} appeared; following it from its start`);
        continue;
      }
      const fd = acquire(t, row, cur);
      if (fd !== null) t.complaint = "";
      if (fd === null) {
        // the file we followed is gone (deleted, or rotated and compressed while we were not running)
        const lost = `the file ${path} was (dev ${row.dev}, inode ${row.ino}, ${row.offset} bytes read) is gone; lines written to it after that offset could not be read`;
        if (cur) {
          if (!followNew(t, row, () => notice(path, lost))) return true;
          continue;
        }
        markMissing(t, row, `${lost}; ${path} does not exist now and will be followed when it appears`);
        return true;
      }
      const isCurrent = !!cur && cur.dev === row.dev && cur.ino === row.ino;
      if (isCurrent && !(await checkTruncation(t, fd, row))) return false;
      if (!(await drain(t, fd, row, false))) return false;
      if (isCurrent) return true;
      // the followed file is no longer at the path
      const fst = fstatSync(fd);
      if (!cur && fst.nlink > 0) return true; // renamed and not yet re-created: keep following the old file
      if (cur && fst.nlink > 0) {
        const now = Date.now();
        if (!t.rotationSeen) t.rotationSeen = now;
        if (rotateGrace > 0 && now - fst.mtimeMs < rotateGrace && now - t.rotationSeen < ROTATE_MAX_WAIT) {
          wakeLater(path, rotateGrace);
          return true; // the writer may not have reopened yet: keep reading the old file a little longer
        }
      }
      if (!(await drain(t, fd, row, true))) return false; // finish it, partial last line included
      // rotated more than once while we were not running: the files in between are not read
      const skipped = t.viaSibling ? newerRotated(row.path, fst, cur) : [];
      const skipNotice = () => {
        if (skipped.length > 0) notice(path, `${path} was rotated more than once while integrityd was not running; not read: ${skipped.join(", ")}`, { files: skipped });
      };
      if (!cur) {
        switchTo(t, row, null, null, () => {
          skipNotice();
          notice(path, `${path} was deleted; it will be followed from its start when it is re-created`);
        });
        return true;
      }
      if (!followNew(t, row, skipNotice)) return true;
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

  const dirsWoken = new Set<string>();
  const wakeDir = (dir: string) => {
    if (stopped) return;
    dirsWoken.add(dir);
    if (debounce) return;
    debounce = setTimeout(() => {
      debounce = null;
      const dirs = new Set(dirsWoken);
      dirsWoken.clear();
      const paths = new Set<string>();
      for (const d of dirs) for (const p of dirLogs.get(d) ?? []) paths.add(p);
      wake(paths);
    }, WATCH_DEBOUNCE);
  };

  /** directory -> the logs it holds (a symlinked log: its link's and its target's directories) */
  const dirLogs = new Map<string, Set<string>>();
  const ensureWatchers = () => {
    dirLogs.clear();
    const add = (d: string, p: string) => {
      let set = dirLogs.get(d);
      if (!set) dirLogs.set(d, (set = new Set()));
      set.add(p);
    };
    for (const t of tracked.values()) {
      add(dirname(t.spec.path), t.spec.path);
      try {
        add(dirname(realpathSync(t.spec.path)), t.spec.path);
      } catch {
        /* missing: its own directory only */
      }
    }
    const dirs = new Set(dirLogs.keys());
    for (const [d, w] of watchers) {
      if (!dirs.has(d)) {
        w?.close();
        watchers.delete(d);
      }
    }
    for (const d of dirs) {
      // a directory removed and created again needs a new watch: compare its inode
      const st = statOrNull(d);
      const key = st ? `${st.dev}:${st.ino}` : "";
      const w = watchers.get(d);
      if (w && watchedIds.get(d) === key) continue;
      w?.close();
      watchers.set(d, null);
      if (!st) continue; // directory missing: polling only, retried at the next poll
      try {
        const nw = watch(d, { persistent: false }, () => wakeDir(d));
        nw.on("error", () => {
          nw.close();
          if (watchers.get(d) === nw) watchers.set(d, null); // retried at the next poll
        });
        watchers.set(d, nw);
        watchedIds.set(d, key);
      } catch {
        /* not watchable: polling only, retried at the next poll */
      }
    }
  };

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
    // logs no longer configured: forget them (if configured again, they start at their end)
    const rows = db.query("SELECT path FROM logs").all() as { path: string }[];
    const gone = rows.filter((r) => !want.has(r.path));
    if (gone.length) db.transaction(() => { for (const r of gone) db.query("DELETE FROM logs WHERE path = ?").run(r.path); })();
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
      if (debounce) clearTimeout(debounce);
      for (const w of watchers.values()) w?.close();
      watchers.clear();
      while (running) await running;
      for (const t of tracked.values()) safeClose(t.fd);
    },
  };
}
