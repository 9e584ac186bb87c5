// The daemon task that keeps `metrics = PATH` (a Prometheus textfile for
// node-exporter's textfile collector) up to date: written at start, every
// EVERY_MS, and once more at a clean stop (integrityd_up 0). Off when the key
// is empty; SIGHUP applies a new path (or none) at once.
//
// The file is replaced atomically: the text goes to ".NAME.tmp" beside it
// (a name the collector skips: it reads only *.prom), created with
// O_EXCL|O_NOFOLLOW after removing any stale one (unlink never follows a
// symlink, so a link planted there points nowhere we write), fsynced, then
// renamed over PATH. Mode 0644, set with fchmod (the unit's UMask is 0077):
// node-exporter runs as its own user and must read the file; the figures are
// counts, ages and the configured log and rule paths, nothing secret.
// A failure is logged once per distinct message, and again when it heals.
import { closeSync, constants, fchmodSync, fsyncSync, openSync, renameSync, statSync, unlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { statusFacts } from "../cli/status.ts";
import type { Config } from "../config/config.ts";
import type { Task, TaskContext } from "../task.ts";
import { log } from "../util/log.ts";
import { writeAll } from "../util/write.ts";
import { renderMetrics } from "./metrics.ts";
import { ruleLoads } from "./ruleloads.ts";

export const EVERY_MS = 60_000;

/** Replace `path` with `text` atomically (see the header). Throws on failure. */
export function writeMetricsFile(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp`);
  try {
    unlinkSync(tmp);
  } catch {
    // none there
  }
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    fchmodSync(fd, 0o644);
    writeAll(fd, text);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

function databaseBytes(path: string): number | null {
  let n = 0;
  for (const p of [path, `${path}-wal`]) {
    try {
      n += statSync(p).size;
    } catch {
      if (p === path) return null;
    }
  }
  return n;
}

/** The metrics text of the database and config as they are now. */
export function metricsText(ctx: TaskContext, up: boolean, now = Date.now()): string {
  return renderMetrics({ up, facts: statusFacts(ctx.db, ctx.config, now), databaseBytes: databaseBytes(ctx.config.database), rules: ruleLoads() });
}

export function createMetricsTask(ctx: TaskContext): Task {
  let config: Config = ctx.config;
  let timer: ReturnType<typeof setInterval> | null = null;
  let lastError = "";

  const write = (up: boolean) => {
    if (config.metrics === "") return;
    try {
      writeMetricsFile(config.metrics, metricsText({ db: ctx.db, config }, up));
      if (lastError !== "") log.notice(`metrics ${config.metrics}: writing again`);
      lastError = "";
    } catch (e) {
      const msg = `metrics ${config.metrics}: ${(e as Error).message}`;
      if (msg !== lastError) log.error(`${msg}; trying again every ${EVERY_MS / 1000} s`);
      lastError = msg;
    }
  };

  const start = () => {
    if (timer) clearInterval(timer);
    timer = null;
    if (config.metrics === "") return;
    write(true);
    timer = setInterval(() => write(true), EVERY_MS);
  };
  start();

  return {
    name: "metrics",
    reload(c: Config) {
      const changed = c.metrics !== config.metrics;
      config = c;
      lastError = changed ? "" : lastError;
      start();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
      write(false);
    },
  };
}
