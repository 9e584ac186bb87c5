// The daemon: one process, one event loop. It opens the database, starts the
// tasks (reporter, PID watch, logs, scanner; contract in task.ts), and handles
// signals (SIGTERM/SIGINT stop, SIGHUP reload). Every output, standard output
// included, is a sink of the reporter.
import type { Database } from "bun:sqlite";
import type { Config } from "../config/config.ts";
import { ConfigError, formatWarning, loadConfig } from "../config/load.ts";
import { openDatabase } from "../db/db.ts";
import { lockDatabase } from "../db/lock.ts";
import { createTailTask } from "../logs/tailer.ts";
import { createPidTask } from "../pids/pids.ts";
import { createReportTask } from "../report/reporter.ts";
import { createScanTask } from "../scan/index.ts";
import { scanCoverage } from "../scan/status.ts";
import { deletedOpenFiles, fileId, HEALTH_EVERY_MS, isCorruption, judgeIdentity, QUICK_CHECK_EVERY_MS, quickCheck } from "../db/health.ts";
import { emergencyNotice } from "../report/emergency.ts";
import { EX_IOERR, EX_OK, ExitError } from "../util/exit.ts";
import { log } from "../util/log.ts";
import type { Task, TaskContext, TaskFactory } from "./task.ts";

const HEALTH_SUBJECT = {
  deleted: "database deleted",
  replaced: "database replaced",
  "wal-deleted": "database journal deleted",
  corrupt: "database is corrupt",
} as const;

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
  const ctx: TaskContext = { db, config };
  // start order: the reporter first (nothing queued at start waits), then PID watch, logs, scanner
  const factories: TaskFactory[] = [
    (c) => createReportTask(c, { stdout: opts.stdout, coverage: () => scanCoverage(c.db, Date.now()) }),
    (c) => createPidTask(c),
    (c) => createTailTask(c),
    (c) => createScanTask(c),
  ];
  const tasks: Task[] = [];
  for (const f of factories) {
    const t = await f(ctx);
    if (t) tasks.push(t);
  }

  // The event loop must stay alive even with no task timers.
  const keepAlive = setInterval(() => {}, 1 << 30);

  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (why: string, code = EX_OK) => {
      if (stopping) return;
      stopping = true;
      clearInterval(healthTimer);
      log.info(`${why}: stopping`);
      const timer = setTimeout(() => {
        log.error("tasks did not stop within 5 seconds; exiting");
        process.exit(1);
      }, 5000);
      for (const t of tasks.reverse()) {
        try {
          await t.stop();
        } catch (e) {
          log.error(`${t.name}: stop failed: ${(e as Error).message}`);
        }
      }
      clearTimeout(timer);
      clearInterval(keepAlive);
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
