// Child of bench/scan/run.ts: one --scan-once pass (runScanOnce, as the CLI
// runs it), reports discarded; prints {code, lagMaxMs} on stderr as JSON.
import { readFileSync } from "node:fs";
import { parseConfig } from "../../src/config/config.ts";
import { runScanOnce } from "../../src/scan/index.ts";

const file = process.argv[2];
const { config } = parseConfig(readFileSync(file, "utf8"), file);
let lagMax = 0;
let last = performance.now();
const timer = setInterval(() => {
  const now = performance.now();
  lagMax = Math.max(lagMax, now - last - 10);
  last = now;
}, 10);
let lines = 0;
const code = await runScanOnce(config, { out: (s) => (lines += s.split("\n").length - 1), err: () => {}, isTTY: false });
clearInterval(timer);
process.stderr.write(`${JSON.stringify({ code, lines, lagMaxMs: Math.round(lagMax) })}\n`);
process.exit(0);
