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
const task = createScanTask({ db, config, stdout: false });
// a coarse stall probe (a 10 ms one would itself cost a visible share of CPU)
let lagMax = 0;
let last = performance.now();
const timer = setInterval(() => {
  const now = performance.now();
  lagMax = Math.max(lagMax, now - last - 250);
  last = now;
}, 250);
await Bun.sleep(Number(seconds) * 1000);
clearInterval(timer);
await task.stop();
const c1 = Number(getMeta(db, "scan.checked") ?? 0);
process.stderr.write(`${JSON.stringify({ checked: c1 - c0, speed: getMeta(db, "scan.speed"), lagMaxMs: Math.round(lagMax) })}\n`);
db.close();
process.exit(0);
