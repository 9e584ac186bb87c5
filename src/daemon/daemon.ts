// The daemon: one process, one event loop. Each module contributes a task that
// runs on its own timers; this file opens the database, starts the tasks, and
// handles signals (SIGTERM/SIGINT stop, SIGHUP reload).
import type { Database } from "bun:sqlite";
import type { Config } from "../config/config.ts";
import { ConfigError, formatWarning, loadConfig } from "../config/load.ts";
import { readFileSync } from "node:fs";
import { getMeta, openDatabase, setMeta } from "../db/db.ts";
import { eventsAfter, lastEventId, onQueued } from "../db/events.ts";
import { EX_OK, EX_TEMPFAIL, ExitError } from "../util/exit.ts";
import { log } from "../util/log.ts";

export interface TaskContext {
  db: Database;
  config: Config;
  stdout: boolean;
}

export interface Task {
  name: string;
  /** Apply a new, already validated configuration. */
  reload?(config: Config): void | Promise<void>;
  /** Stop timers and finish the current transaction. */
  stop(): void | Promise<void>;
}

export type TaskFactory = (ctx: TaskContext) => Task | null | Promise<Task | null>;

/**
 * Task factories in start order: the reporter first (so nothing queued at start
 * waits), then PID watch, logs and the scanner. Loaded lazily so the type-only
 * imports of the modules back into this file stay cycle-free.
 */
async function taskFactories(): Promise<TaskFactory[]> {
  const [{ createReportTask }, { createPidTask }, { createTailTask }, { createScanTask }] = await Promise.all([
    import("../report/reporter.ts"),
    import("../pids/pids.ts"),
    import("../logs/tailer.ts"),
    import("../scan/index.ts"),
  ]);
  return [(c) => createReportTask(c), (c) => createPidTask(c), (c) => createTailTask(c), (c) => createScanTask(c)];
}

/**
 * The PID of a live integrityd daemon recorded in this database, or 0. A stale
 * record (process gone, or the PID now belongs to another program) counts as none.
 */
export function runningDaemon(db: Database): number {
  const pid = Number(getMeta(db, "daemon.pid") ?? 0);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return 0;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "latin1");
    return cmdline.includes("integrityd") ? pid : 0;
  } catch {
    return 0;
  }
}

export interface DaemonOptions {
  config: Config;
  configPath: string;
  stdout: boolean;
}

/** Print every queued event on stdout, in queue order, once committed. */
function stdoutSink(db: Database): () => void {
  let cursor = lastEventId(db);
  const drain = () => {
    for (;;) {
      const rows = eventsAfter(db, cursor);
      if (rows.length === 0) return;
      for (const r of rows) {
        process.stdout.write(`${r.text}\n`);
        cursor = r.id;
      }
    }
  };
  return onQueued(drain);
}

export async function runDaemon(opts: DaemonOptions): Promise<number> {
  let config = opts.config;
  const db = openDatabase(config.database);
  const other = runningDaemon(db);
  if (other) {
    db.close();
    throw new ExitError(EX_TEMPFAIL, `${config.database}: integrityd is already running on this database (PID ${other})`);
  }
  setMeta(db, "daemon.pid", process.pid);
  const ctx: TaskContext = { db, config, stdout: opts.stdout };
  const unsubscribe = opts.stdout ? stdoutSink(db) : () => {};
  const tasks: Task[] = [];
  for (const f of await taskFactories()) {
    const t = await f(ctx);
    if (t) tasks.push(t);
  }

  // The event loop must stay alive even with no task timers.
  const keepAlive = setInterval(() => {}, 1 << 30);

  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (sig: string) => {
      if (stopping) return;
      stopping = true;
      log.info(`${sig}: stopping`);
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
      unsubscribe();
      db.query("DELETE FROM meta WHERE key = 'daemon.pid'").run();
      db.close();
      resolve(EX_OK);
    };
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
