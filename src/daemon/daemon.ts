// The daemon: one process, one event loop. It opens the database, starts the
// tasks (reporter, PID watch, logs, scanner, metrics file; contract in src/task.ts), and handles
// signals (SIGTERM/SIGINT stop, SIGHUP reload). Every output, standard output
// included, is a sink of the reporter.
import type { Database } from "bun:sqlite";
import type { Config } from "../config/config.ts";
import { ConfigError, formatWarning, loadConfig, missingAreas } from "../config/load.ts";
import { escapeString } from "../util/escape.ts";
import { getMeta, openDatabase, setMeta } from "../db/db.ts";
import { lockDatabase } from "../db/lock.ts";
import { createTailTask } from "../logs/tailer.ts";
import { createJournalTask } from "../logs/journal/task.ts";
import { createPidTask } from "../pids/pids.ts";
import { createReportTask } from "../report/reporter.ts";
import { createScanTask } from "../scan/index.ts";
import { createPackagesTask } from "../packages/task.ts";
import { createMetricsTask } from "../report/metricsfile.ts";
import { scanCoverage } from "../scan/status.ts";
import { deletedOpenFiles, fileId, HEALTH_EVERY_MS, isCorruption, judgeIdentity, QUICK_CHECK_EVERY_MS, quickCheck } from "../db/health.ts";
import { emergencyNotice } from "../report/emergency.ts";
import { EX_IOERR, EX_OK, ExitError } from "../util/exit.ts";
import { enqueue, ownQueue } from "../db/events.ts";
import { createInboxTask } from "../db/inbox.ts";
import type { ReportTask } from "../report/reporter.ts";
import { META_STARTED, META_STOPPED, NOTICE_SECTION, stopNotice, uncleanStartNotice } from "./lifecycle.ts";
import { log } from "../util/log.ts";
import { TRIM_AFTER_START_MS, trimAndSay } from "../util/trim.ts";
import type { Task, TaskContext, TaskFactory } from "../task.ts";
import { chainKeyPath, closeChain, openChain } from "../chain/open.ts";
import { createChainTask } from "../chain/task.ts";

/** On stop: time for every output to take what is pending, and for the whole stop. */
const FLUSH_MS = 10_000;
const STOP_LIMIT_MS = 20_000;

const HEALTH_SUBJECT = {
  deleted: "database deleted",
  replaced: "database replaced",
  "wal-deleted": "database journal deleted",
  corrupt: "database is corrupt",
} as const;

/** The mail footer's figures: the scan's, and how long a cycle takes at the current rates. */
function footerFigures(db: Database, config: Config) {
  const now = Date.now();
  const cov = scanCoverage(db, now); // cheap: meta keys and an index, no count of a big table
  const rate = config.filerate * (cov.speed ?? 1);
  return { ...cov, cycleSeconds: cov.entries !== undefined && rate > 0 ? cov.entries / rate : undefined };
}

export interface DaemonOptions {
  config: Config;
  configPath: string;
  /** print every event queued from now on to standard output too */
  stdout: boolean;
}

export async function runDaemon(opts: DaemonOptions): Promise<number> {
  let config = opts.config;
  let db: Database;
  try {
    db = openDatabase(config.database); // missing: 78; foreign, corrupt, read-only: 74
  } catch (e) {
    if (e instanceof ExitError && e.code === EX_IOERR) await emergencyNotice(config, "cannot use its database", `integrityd did not start: ${e.message}`);
    throw e;
  }
  let lock;
  try {
    lock = lockDatabase(config.database, "the daemon"); // 75 while another one runs
  } catch (e) {
    db.close();
    throw e;
  }
  ownQueue(db); // we hold the lock: events go straight into the queue (db/events.ts)
  const ctx: TaskContext = { db, config };
  const startedAt = Date.now();
  // tamper evidence (src/chain): attached before anything is queued
  const chain = openChain(db, chainKeyPath(config), "daemon");
  if (chain.on) log.info(`chain: on, epoch ${chain.epoch}`);
  else log.warn(`chain: tamper evidence is off: ${chain.reason}`);
  const notice = (text: string) => enqueue(db, { channel: "log", kind: "notice", section: NOTICE_SECTION, subject: "integrityd", text, urgent: true });
  {
    const num = (k: string) => {
      const v = Number(getMeta(db, k));
      return Number.isFinite(v) && v > 0 ? v : undefined;
    };
    const unclean = uncleanStartNotice({ started: num(META_STARTED), stopped: num(META_STOPPED) }, startedAt);
    if (unclean) {
      log.warn(unclean);
      notice(unclean);
    }
    setMeta(db, META_STARTED, startedAt);
  }
  // a typo in an area leaves a tree unwatched: say it where the admin reads
  const areaNotice = (c: Config) => {
    for (const a of missingAreas(c.areas)) {
      enqueue(db, { channel: "file", kind: "error", subject: escapeString(a), text: `Error: area ${escapeString(a)} does not exist or is not a directory: nothing under it is checked` });
    }
  };
  areaNotice(config);
  if (!chain.on && db.query("SELECT 1 FROM chain LIMIT 1").get()) notice(`Tamper evidence is off: ${chain.reason}`);
  // start order: the reporter first (nothing queued at start waits), then PID watch, logs, scanner
  const factories: TaskFactory[] = [
    (c) => createReportTask(c, { stdout: opts.stdout, coverage: () => footerFigures(c.db, ctx.config) }),
    (c) => createInboxTask(c), // events the apt hook queued while we ran or were down
    (c) => createPidTask(c),
    (c) => createTailTask(c),
    (c) => createJournalTask(c),
    (c) => createScanTask(c),
    (c) => createPackagesTask(c),
    (c) => createChainTask(c),
    (c) => createMetricsTask(c),
  ];
  const tasks: Task[] = [];
  let reporter: ReportTask | null = null;
  for (const f of factories) {
    const t = await f(ctx);
    if (t) tasks.push(t);
    if (t && reporter === null) reporter = t as ReportTask; // the first factory's task
  }

  // The event loop must stay alive even with no task timers.
  const keepAlive = setInterval(() => {}, 1 << 30);
  // start-up's read-only program pages go back to the kernel once it has settled (util/trim.ts)
  const trimTimers = TRIM_AFTER_START_MS.map((ms) => setTimeout(() => trimAndSay("start-up"), ms));

  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (why: string, code = EX_OK) => {
      if (stopping) return;
      stopping = true;
      clearInterval(healthTimer);
      for (const t of trimTimers) clearTimeout(t);
      log.info(`${why}: stopping`);
      const timer = setTimeout(() => {
        log.error(`tasks did not stop within ${STOP_LIMIT_MS / 1000} seconds; exiting`);
        process.exit(1);
      }, STOP_LIMIT_MS);
      const stopTask = async (t: Task) => {
        try {
          await t.stop();
        } catch (e) {
          log.error(`${t.name}: stop failed: ${(e as Error).message}`);
        }
      };
      // the watchers first (they may queue their last events), then the news of
      // the stop, then every output is given FLUSH_MS to take what is pending
      for (const t of [...tasks].reverse()) if (t !== reporter) await stopTask(t);
      if (code === EX_OK) {
        try {
          notice(stopNotice(why, startedAt, Date.now()));
          if (reporter && !(await reporter.flush(FLUSH_MS))) log.warn(`stopping: not every pending event could be delivered within ${FLUSH_MS / 1000} s; they are kept and sent at the next start`);
          setMeta(db, META_STOPPED, Date.now());
        } catch (e) {
          log.error(`stopping: ${(e as Error).message}`);
        }
      }
      if (reporter) await stopTask(reporter);
      clearTimeout(timer);
      clearInterval(keepAlive);
      closeChain(db);
      db.close();
      lock.release();
      resolve(code);
    };
    // the database must stay the file we opened, and sound (health.ts)
    const opened = fileId(config.database)!;
    let nextQuickCheck = Date.now() + QUICK_CHECK_EVERY_MS;
    const health = async () => {
      if (stopping) return;
      let problem = judgeIdentity(config.database, opened, fileId(config.database), deletedOpenFiles());
      if (!problem && Date.now() >= nextQuickCheck) {
        nextQuickCheck = Date.now() + QUICK_CHECK_EVERY_MS;
        try {
          const found = quickCheck(db);
          if (found.length) problem = { kind: "corrupt", text: `${config.database}: quick_check: ${found.join("; ")}` };
        } catch (e) {
          if (isCorruption(e)) problem = { kind: "corrupt", text: `${config.database}: ${(e as Error).message}` };
        }
      }
      if (!problem) return;
      clearInterval(healthTimer);
      if (problem.kind === "wal-deleted") {
        try {
          db.exec("PRAGMA wal_checkpoint(TRUNCATE)"); // the unlinked WAL's frames go into the database file
        } catch (e) {
          problem = { kind: "wal-deleted", text: `${problem.text.split(";")[0]}; writing its content back failed: ${(e as Error).message}` };
        }
      }
      log.error(`${HEALTH_SUBJECT[problem.kind]}: ${problem.text}`);
      await emergencyNotice(config, HEALTH_SUBJECT[problem.kind], `${problem.text}\n\nintegrityd stops (exit 74) so that nothing more is written where it would be lost.`);
      await stop(`database ${problem.kind}`, EX_IOERR);
    };
    const healthTimer = setInterval(() => void health(), HEALTH_EVERY_MS);
    const reload = async () => {
      try {
        const res = loadConfig(opts.configPath);
        for (const w of res.warnings) log.warn(formatWarning(w));
        if (res.config.database !== config.database) {
          log.warn(`SIGHUP: database path changed to ${res.config.database}; restart integrityd to switch databases (keeping ${config.database})`);
          res.config.database = config.database;
        }
        config = res.config;
        ctx.config = config;
        areaNotice(config);
        for (const t of tasks) await t.reload?.(config);
        log.info(`SIGHUP: reloaded ${opts.configPath}`);
      } catch (e) {
        const msg = e instanceof ConfigError ? e.messages.join("\n") : (e as Error).message;
        log.error(`SIGHUP: new configuration rejected, keeping the running one:\n${msg}`);
      }
    };
    process.on("SIGTERM", () => void stop("SIGTERM"));
    process.on("SIGINT", () => void stop("SIGINT"));
    process.on("SIGHUP", () => void reload());
    // announced only once the signal handlers are in place
    log.info(`integrityd started (database ${config.database}; tasks: ${tasks.map((t) => t.name).join(", ") || "none"})`);
  });
}
