// The file integrity scanner's entry points:
//   runScanOnce(config, io)  --scan-once: one full-speed pass, exit status bitmask
//   createScanTask(ctx)      the daemon task that trickles forever at the configured rates
// Where things are: scanner.ts (the engine, and where a path goes), trickle.ts
// and full.ts (the two drivers), lane.ts (big files, read beside the trickle),
// soon.ts (early re-checks after a ctime move), visit.ts, compare.ts,
// record.ts, cycle.ts (the scan.* meta keys), status.ts (the figures --status
// and the mail footer show), reader.ts / digest.ts / extents.ts / pool.ts / worker.ts /
// wire.ts (the I/O edge; sparse.ts the sparse digest), dirs.ts / libc.ts
// (paths reached by directory descriptor, never resolved whole), errors.ts.
import type { Config } from "../config/config.ts";
import type { Task, TaskContext } from "../task.ts";
import { openDatabase } from "../db/db.ts";
import { adoptInbox, ownQueue } from "../db/events.ts";
import { chainKeyPath, closeChain, openChain } from "../chain/open.ts";
import { EX_CONFIG, ExitError } from "../util/exit.ts";
import { log } from "../util/log.ts";
import { availableParallelism } from "node:os";
import { formatBytes, formatMillis } from "../util/duration.ts";
import { HashPool } from "./pool.ts";
import type { ScanEvent } from "./record.ts";
import { Scanner } from "./scanner.ts";
import { BehindCheck } from "./behind.ts";
import { Hints } from "./hints/hints.ts";

/** How often the daemon looks whether the cycle runs behind (behind.ts). */
const BEHIND_EVERY_MS = 60_000;

export const EXIT_NEW = 1;
export const EXIT_DELETED = 2;
export const EXIT_CHANGED = 4;

export interface ScanIO {
  out(s: string): void;
  err(s: string): void;
  isTTY: boolean;
}

function bitOf(ev: ScanEvent): number {
  return ev.kind === "new" ? EXIT_NEW : ev.kind === "deleted" ? EXIT_DELETED : ev.kind === "changed" ? EXIT_CHANGED : 0;
}

/** The progress line: entries done of the estimated total, bytes, rate, ETA. */
export function progressLine(done: number, estimate: number, bytes: number, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const total = Math.max(estimate, done);
  const frac = total > 0 ? done / total : 0;
  const width = 24;
  const filled = Math.min(width, Math.round(frac * width));
  const eta = rate > 0 && total > done ? formatMillis(((total - done) / rate) * 1000) : "-";
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${estimate > 0 ? total : "?"} entries, ${formatBytes(bytes)}, ${rate.toFixed(0)}/s, ETA ${eta}`;
}

/**
 * --scan-once: one complete pass over all areas at full speed (rate limits
 * ignored), compared with and written to the database; reports on io.out.
 * Returns the AIDE-style bitmask: 1 new, 2 deleted, 4 changed. Throws
 * ExitError (74 database, 78 configuration).
 */
export async function runScanOnce(config: Config, io: ScanIO): Promise<number> {
  if (config.areas.length === 0) throw new ExitError(EX_CONFIG, `${config.file}: no 'area' configured; nothing to scan`);
  const db = openDatabase(config.database);
  const chain = openChain(db, chainKeyPath(config), "scan-once");
  if (!chain.on) log.warn(`chain: tamper evidence is off: ${chain.reason}`);
  ownQueue(db); // the caller holds the database lock (cli.ts)
  while (adoptInbox(db) > 0); // what the apt hook queued (db/events.ts), chained before this scan's own events
  // workers list, lstat and hash (the bulk of the work); the main thread
  // compares and writes SQLite, and takes a share of the files when the
  // workers are busy: cores - 1 workers (1 to 3) plus this thread
  const pool = new HashPool(Math.max(1, Math.min(3, availableParallelism() - 1)), true);
  let bits = 0;
  let bar = false;
  try {
    const scanner = new Scanner({
      db,
      config,
      unlimited: true,
      walker: pool,
      onEvent: (ev) => {
        bits |= bitOf(ev);
        if (bar) io.err("\r\x1b[K");
        io.out(`${ev.text}\n`);
      },
    });
    const estimate = scanner.store.totals().entries;
    scanner.sweepAll();
    scanner.freshCycle();
    const started = Date.now();
    let lastDraw = 0;
    await scanner.runCycle(() => {
      if (!io.isTTY) return;
      const done = scanner.checkedInCycle;
      const now = Date.now();
      if (now - lastDraw < 200) return;
      lastDraw = now;
      bar = true;
      io.err(`\r\x1b[K${progressLine(done, estimate, scanner.bytesInCycle, now - started)}`);
    });
    if (bar) io.err("\r\x1b[K");
    return bits;
  } finally {
    pool.close();
    closeChain(db);
    db.close();
  }
}

function startHints(h: Hints): Promise<void> {
  return h.start().catch((e) => log.error(`hints: ${(e as Error).message}; the trickle alone checks the areas`));
}

/**
 * The daemon task: trickles through the areas forever at the configured
 * rates, re-checks what change hints name at once (hints/hints.ts), and says
 * once when a cycle runs behind (behind.ts).
 */
export function createScanTask(ctx: TaskContext): Task {
  const scanner = new Scanner({ db: ctx.db, config: ctx.config });
  let hints = new Hints(scanner);
  let started = startHints(hints);
  const behind = new BehindCheck(ctx.db);
  const behindTimer = setInterval(() => {
    try {
      behind.check(scanner.config, scanner.pacer.speed, Date.now());
    } catch (e) {
      log.error(`scan: staleness check: ${(e as Error).message}`);
    }
  }, BEHIND_EVERY_MS);
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const r = await scanner.step();
        if (r === "stopped") break;
        if (r === "idle") await scanner.pause(5000);
        else if (r === "cycle-end") log.debug(`scan: cycle ${scanner.cycleNumber - 1} complete`);
      } catch (e) {
        log.error(`scan: ${(e as Error).message ?? String(e)}; retrying in 10 seconds`);
        await scanner.pause(10_000);
      }
    }
  })();
  return {
    name: "scan",
    async reload(config: Config) {
      const again = config.hints !== scanner.config.hints || config.hintwatches !== scanner.config.hintwatches || config.areas.join("\0") !== scanner.config.areas.join("\0");
      scanner.setConfig(config);
      if (again) {
        await started;
        await hints.stop();
        hints = new Hints(scanner);
        started = startHints(hints);
      }
    },
    async stop() {
      running = false;
      clearInterval(behindTimer);
      scanner.stop();
      await started;
      await hints.stop();
      await loop;
      await scanner.settled(); // the big-file lane writes nothing after this
    },
  };
}
