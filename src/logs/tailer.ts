// The log follower's task: follows every configured `log`, classifies each
// new line with the log's rule set and queues the reported ones (channel "log").
// This file is the task only: the list of logs, the timers and wake-ups, the
// rule sets, reload and stop. One followed log is a Follower (follower.ts):
// its state, its reading and its switching between files. The decisions are
// pure and tested on their own:
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
// Wake-ups: a poll every `logchecktime` seconds and fs.watch on each log's
// directory (and a symlinked log's target directory), debounced, so a new line
// is queued well within a second. Logs are passed over in turn; a log that
// stopped early (its per-pass byte budget used up) is queued again after the
// others. The task yields to the event loop whenever a slice of work exceeds
// SLICE_MS.
//
// Events: channel "log", kind alert|violation|system (one per report section
// the line belongs to, as logcheck lists a line under each matching file) or
// notice (section NOTICE_SECTION: missing/deleted/truncated logs, rule problems,
// embedded rules in use); subject = the log path; text = the escaped line (a cut
// line ends with CUT_MARKER); details = {log, offset, section[, cut]}.
//
// The rule sets (src/rules/reload.ts) are used here only: loaded, refreshed and
// announced in the "rules" part below, handed to the followers as a classifier.
//
// Wiring: the daemon registers `createTailTask` as a task factory.
import type { Database } from "bun:sqlite";
import type { Config, LogSpec } from "../config/config.ts";
import type { Task, TaskContext } from "../task.ts";
import { getMeta, setMeta } from "../db/db.ts";
import { yieldToLoop } from "../util/loop.ts";
import { log } from "../util/log.ts";
import type { Classifier } from "../rules/layers.ts";
import { type LoadedRuleSet, ruleSetKey, RuleSets } from "../rules/reload.ts";
import { dbRuleCache } from "../rules/cache.ts";
import { childCompiler } from "../rules/child.ts";
import { type FollowContext, Follower } from "./follower.ts";
import { ROTATE_GRACE } from "./follow.ts";
import { forgetLogs, noticeEvent, queueEvent } from "./store.ts";
import { DirWatches } from "./watch.ts";

/** Longest stretch of work before yielding to the event loop. */
const SLICE_MS = 10;
/** Delay between a watch event and the pass it triggers (coalesces bursts). */
const WATCH_DEBOUNCE = 25;

export interface TailOptions {
  /** override ROTATE_GRACE (tests) */
  rotateGraceMs?: number;
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
  const rules = new RuleSets(dbRuleCache(db), childCompiler()); // compiled rule sets kept in the database (rules/cache.ts)
  const tracked = new Map<string, Follower>();
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

  // ---- rules

  const reportRuleSet = (s: LoadedRuleSet) => {
    const fresh = s.problems.filter((p) => !reportedProblems.has(p));
    if (s.note !== null) {
      const key = `logs.embedded-notice.${s.home}`;
      if (getMeta(db, key) !== s.note) {
        const msg = s.note;
        log.notice(msg);
        db.transaction(() => {
          queueEvent(db, noticeEvent(s.home, msg, { rules: s.home }));
          setMeta(db, key, msg);
        }).immediate();
      }
    } else {
      try {
        db.query("DELETE FROM meta WHERE key = ?").run(`logs.embedded-notice.${s.home}`);
      } catch {
        /* nothing to forget */
      }
    }
    log.info(`rules: ${s.home} (${s.level}): ${s.summary}`);
    if (fresh.length === 0) return;
    for (const p of fresh) {
      reportedProblems.add(p);
      log.warn(`rules: ${p}`);
    }
    db.transaction(() => {
      for (const p of fresh) queueEvent(db, noticeEvent(s.home, `rule problem (rule skipped, the others apply): ${p}`, { rules: s.home }));
    }).immediate();
  };

  const announced = new WeakSet<LoadedRuleSet>();
  const classifierFor = (spec: LogSpec): Classifier => {
    const s = rules.get({ home: spec.rules, level: spec.level, crackingignore: config.crackingignore });
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
          classifierFor(t.spec);
          if (!(await t.pass()) && !stopped) pending.add(p); // more to read: after the other logs
        } catch (e) {
          log.error(`logs: ${p}: ${(e as Error).message}`);
          t.close();
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

  const follow: FollowContext = {
    db,
    rotateGraceMs: rotateGrace,
    classifier: classifierFor,
    stopped: () => stopped,
    sliceOver: () => performance.now() - sliceStart > SLICE_MS,
    maybeYield,
    wakeLater,
    named: (p) => tracked.has(p),
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
        t.close();
        tracked.delete(p);
      }
    }
    const keys = new Set<string>();
    for (const [p, s] of want) {
      keys.add(ruleSetKey({ home: s.rules, level: s.level, crackingignore: c.crackingignore }));
      const t = tracked.get(p);
      if (t) t.spec = s;
      else tracked.set(p, new Follower(s, follow));
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
      for (const t of tracked.values()) t.close();
    },
  };
}
