// The daemon's package task: the backfill (backfill.ts) at a low rate, so
// packages installed before the hook, or while it was not in place, get the
// best evidence still on the host. It starts a while after the daemon (the
// first scan pass goes first), takes one package per PACE_MS, and runs again
// every AGAIN_MS; its counts go to meta for --status. Each pass runs in a
// child process (backfillchild.ts) when the program can start itself; if the
// child fails, that pass runs here (said once in the log). Stopping the
// daemon, or reloading `packages = off`, stops a running pass.
import { setMeta } from "../db/db.ts";
import type { Task, TaskContext } from "../task.ts";
import { log } from "../util/log.ts";
import { trimAndSay } from "../util/trim.ts";
import { type AptDirs, hostAptDirs } from "./archive.ts";
import { backfillAll, type BackfillCounts, countsText } from "./backfill.ts";
import { type BackfillRunner, childBackfill } from "./backfillchild.ts";
import { packageJudge } from "./judge.ts";
import { META_BACKFILL } from "./status.ts";

export const START_MS = 10 * 60_000;
export const PACE_MS = 2_000;
export const AGAIN_MS = 24 * 3600_000;

export function createPackagesTask(ctx: TaskContext, timing = { start: START_MS, pace: PACE_MS, again: AGAIN_MS }, runner: BackfillRunner | null = childBackfill()): Task | null {
  if (!packageJudge(ctx.db, ctx.config)) return null;
  let running = true;
  let enabled = true;
  let wake: (() => void) | null = null;
  let abort: AbortController | null = null;
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => (wake = null, resolve()), ms);
      wake = () => (clearTimeout(t), wake = null, resolve());
    });
  const here = (dirs: AptDirs) => backfillAll(ctx.db, dirs, async () => {
    await nap(timing.pace);
    return running && enabled;
  }, Date.now);
  /** One pass: in the child, else (or when the child fails) here; null when stopped meanwhile. */
  const pass = async (): Promise<BackfillCounts | null> => {
    const dirs = hostAptDirs();
    if (runner !== null) {
      abort = new AbortController();
      try {
        return await runner(ctx.config.database, dirs, timing.pace, abort.signal);
      } catch (e) {
        if (!running || !enabled) return null;
        log.warn(`packages: the backfill in a child process failed (${(e as Error).message}); this pass runs in the daemon`);
      } finally {
        abort = null;
      }
    }
    return here(dirs);
  };
  const loop = (async () => {
    await nap(timing.start);
    while (running) {
      if (enabled) {
        try {
          const counts = await pass();
          if (running && counts !== null) {
            setMeta(ctx.db, META_BACKFILL, JSON.stringify({ time: Date.now(), verified: counts.verified, md5only: counts["md5-only"], none: counts.none }));
            log.info(countsText(counts).trimEnd());
            trimAndSay("the package backfill"); // its one-off code pages (util/trim.ts)
          }
        } catch (e) {
          log.error(`packages: backfill: ${(e as Error).message ?? String(e)}`);
        }
      }
      if (running) await nap(timing.again);
    }
  })();
  return {
    name: "packages",
    reload(config) {
      enabled = config.packages !== "off";
      if (!enabled) (abort as AbortController | null)?.abort();
    },
    async stop() {
      running = false;
      (abort as AbortController | null)?.abort();
      (wake as (() => void) | null)?.();
      await loop;
    },
  };
}
