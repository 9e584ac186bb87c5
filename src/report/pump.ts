// One output's loop. Each output of the reporter (mail, the JSON log, syslog,
// standard output, and the retention chore) has its own pump, so a hung SMTP
// session delays mail only, never the other outputs.
//
// A pump runs its `body` when kicked or when its own timer fires; it is never
// re-entered: a kick during a run makes it run once more right after. `body`
// returns when it wants to run next (ms since the epoch; Infinity: only when
// kicked); the pump wakes at least every `wakeMax` ms anyway. A body that
// throws is logged by the caller's `onError`, which returns the next time.
export interface Pump {
  readonly name: string;
  /** Run now (or once more after the current run). Resolves when that run is over. */
  kick(): Promise<void>;
  /** No more runs; waits for the current one at most `graceMs`. */
  stop(graceMs: number): Promise<void>;
}

export interface PumpOptions {
  wakeMax: number;
  onError(e: unknown): number;
}

export function createPump(name: string, body: () => Promise<number>, opts: PumpOptions): Pump {
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let nextAt = Infinity;

  const schedule = () => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    const now = Date.now();
    const at = Math.min(nextAt, now + opts.wakeMax);
    timer = setTimeout(() => void kick(), Math.max(10, Math.min(at - now, 2 ** 31 - 1)));
  };

  const loop = async () => {
    do {
      again = false;
      try {
        nextAt = await body();
      } catch (e) {
        nextAt = opts.onError(e);
      }
    } while (again && !stopped);
  };

  const kick = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = loop().finally(() => {
      running = null;
      schedule();
    });
    return running;
  };

  return {
    name,
    kick,
    async stop(graceMs: number) {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      if (running) {
        let t: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([running, new Promise<void>((r) => (t = setTimeout(r, graceMs)))]);
        if (t) clearTimeout(t);
      }
    },
  };
}
