// The daemon's chain task: seals the current epoch every `chainepoch` seconds
// (counted from the last seal, across restarts), even when nothing happened,
// so that no epoch stays open for an intruder to truncate and continue. A seal
// is put off for a second while another transaction is open (open.ts).
import type { Task, TaskContext } from "../task.ts";
import { log } from "../util/log.ts";
import { attached } from "./append.ts";
import { nextSealAt } from "./core.ts";
import { sealEpoch } from "./open.ts";

export function createChainTask(ctx: TaskContext): Task | null {
  const db = ctx.db;
  if (!attached(db)) return null;
  let period = ctx.config.chainepoch * 1000;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;

  const schedule = (delay?: number) => {
    if (timer) clearTimeout(timer);
    const l = attached(db);
    if (stopped || !l) return;
    const now = Date.now();
    const wait = delay ?? nextSealAt(l.epochStart, period, now) - now;
    timer = setTimeout(tick, Math.max(0, Math.min(wait, 2 ** 31 - 1)));
  };
  const tick = () => {
    timer = null;
    try {
      if (!sealEpoch(db)) return schedule(1000);
      log.debug(`chain: epoch sealed; key evolved to epoch ${attached(db)?.epoch}`);
    } catch (e) {
      log.error(`chain: ${String((e as Error).message).split("\n")[0]}`);
    }
    schedule();
  };
  schedule();

  return {
    name: "chain",
    reload(c) {
      period = c.chainepoch * 1000;
      schedule();
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
