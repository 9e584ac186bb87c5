// Child of bench/scan/run.ts: the daemon scan task at the configured rates for
// SECONDS; prints {checked, bytes, lagMaxMs} on stderr as JSON.
import { readFileSync } from "node:fs";
import { parseConfig } from "../../src/config/config.ts";
import { getMeta, openDatabase } from "../../src/db/db.ts";
import { createScanTask } from "../../src/scan/index.ts";

const [file, seconds] = process.argv.slice(2);
const { config } = parseConfig(readFileSync(file, "utf8"), file);
const db = openDatabase(config.database);
const c0 = Number(getMeta(db, "scan.checked") ?? 0);
const task = createScanTask({ db, config });
// a coarse stall probe: one wake a second (at 250 ms it alone cost ~0.1% of a
// core of what is measured here, and the daemon runs no such probe)
let lagMax = 0;
let last = performance.now();
const timer = setInterval(() => {
  const now = performance.now();
  lagMax = Math.max(lagMax, now - last - 1000);
  last = now;
}, 1000);
await Bun.sleep(Number(seconds) * 1000);
clearInterval(timer);
await task.stop();
const c1 = Number(getMeta(db, "scan.checked") ?? 0);
process.stderr.write(`${JSON.stringify({ checked: c1 - c0, speed: getMeta(db, "scan.speed"), lagMaxMs: Math.round(lagMax) })}\n`);
db.close();
process.exit(0);
