// The daemon's package task: the backfill (backfill.ts) at a low rate, so
// packages installed before the hook, or while it was not in place, get the
// best evidence still on the host. It starts a while after the daemon (the
// first scan pass goes first), takes one package per PACE_MS, and runs again
// every AGAIN_MS; its counts go to meta for --status.
import { setMeta } from "../db/db.ts";
import type { Task, TaskContext } from "../task.ts";
import { log } from "../util/log.ts";
import { trimAndSay } from "../util/trim.ts";
import { hostAptDirs } from "./archive.ts";
import { backfillAll, countsText } from "./backfill.ts";
import { childIndexer, indexHere, type Indexer } from "./indexchild.ts";
import { packageJudge } from "./judge.ts";
import { META_BACKFILL } from "./status.ts";

export const START_MS = 10 * 60_000;
export const PACE_MS = 2_000;
export const AGAIN_MS = 24 * 3600_000;

export function createPackagesTask(ctx: TaskContext, timing = { start: START_MS, pace: PACE_MS, again: AGAIN_MS }): Task | null {
  if (!packageJudge(ctx.db, ctx.config)) return null;
  let running = true;
  let enabled = true;
  let wake: (() => void) | null = null;
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => (wake = null, resolve()), ms);
      wake = () => (clearTimeout(t), wake = null, resolve());
    });
  // the day's index is read in a child process (indexchild.ts); if that fails, here
  const child = childIndexer();
  const indexer: Indexer = child === null ? indexHere : async (d, want) => {
    try {
      return await child(d, want);
    } catch (e) {
      log.warn(`packages: reading the package indexes in a child process failed (${(e as Error).message}); read in the daemon`);
      return indexHere(d, want);
    }
  };
  const loop = (async () => {
    await nap(timing.start);
    while (running) {
      if (enabled) {
        try {
          const counts = await backfillAll(ctx.db, hostAptDirs(), async () => {
            await nap(timing.pace);
            return running && enabled;
          }, Date.now, indexer);
          if (running) {
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
    },
    async stop() {
      running = false;
      (wake as (() => void) | null)?.();
      await loop;
    },
  };
}
