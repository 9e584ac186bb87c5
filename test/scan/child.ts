// A scanner in its own process, for the crash and privilege tests.
//   bun child.ts once CONFIG   runScanOnce; prints the reports; exits with its status
//   bun child.ts task CONFIG   the daemon task until the current cycle completes
import { readFileSync } from "node:fs";
import { parseConfig } from "../../src/config/config.ts";
import { getMeta, openDatabase } from "../../src/db/db.ts";
import { createScanTask, runScanOnce } from "../../src/scan/index.ts";
import { META } from "../../src/scan/cycle.ts";
import { ExitError } from "../../src/util/exit.ts";

const [mode, file] = process.argv.slice(2);
const { config, errors } = parseConfig(readFileSync(file, "utf8"), file);
if (errors.length) {
  console.error(errors.map((e) => e.message).join("\n"));
  process.exit(78);
}
if (mode === "once") {
  try {
    const code = await runScanOnce(config, { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s), isTTY: false });
    process.exit(code);
  } catch (e) {
    if (e instanceof ExitError) {
      console.error(e.message);
      process.exit(e.code);
    }
    throw e;
  }
} else {
  const db = openDatabase(config.database);
  const task = createScanTask({ db, config });
  // the cycle is read only after the task's first step has started one
  let start = Number(getMeta(db, META.cycle) ?? 0);
  const timer = setInterval(async () => {
    const now = Number(getMeta(db, META.cycle) ?? 0);
    if (start === 0) start = now;
    else if (now > start) {
      clearInterval(timer);
      await task.stop();
      db.close();
      process.exit(0);
    }
  }, 20);
}
