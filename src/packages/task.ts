// The daemon's package task: the backfill (backfill.ts) at a low rate, so
// packages installed before the hook, or while it was not in place, get the
// best evidence still on the host. It starts a while after the daemon (the
// first scan pass goes first), takes one package per PACE_MS, and runs again
// every AGAIN_MS; its counts go to meta for --status. Each pass runs in a
// child process (backfillchild.ts); only when no child can be started at all
// does it run here. A child that fails is a warning in the log and the next
// pass is the next day's: the daemon never takes on a pass's work and memory.
// Stopping the daemon, or reloading `packages = off`, stops a running pass.
import { setMeta } from "../db/db.ts";
import type { Task, TaskContext } from "../task.ts";
import { log } from "../util/log.ts";
import { ChildStartError } from "../util/selfchild.ts";
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
  /** One pass: in the child (here only when no child can be started); null when it was stopped or failed (said in the log). */
  const pass = async (): Promise<BackfillCounts | null> => {
    const dirs = hostAptDirs();
    if (runner === null) return here(dirs);
    const ac = new AbortController();
    abort = ac;
    try {
      return await runner(ctx.config.database, dirs, timing.pace, ac.signal);
    } catch (e) {
      if (ac.signal.aborted) return null;
      if (e instanceof ChildStartError) {
        log.warn(`packages: no child process for the backfill (${e.message}); this pass runs in the daemon`);
        return here(dirs);
      }
      log.warn(`packages: the backfill pass in a child process failed (${(e as Error).message}); the next pass is in ${Math.round(timing.again / 3600_000)} h`);
      return null;
    } finally {
      if (abort === ac) abort = null;
    }
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
