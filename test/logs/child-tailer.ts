// A tailer in its own process, for the kill -9 test:
//   bun child-tailer.ts DB LOG RULES run    follow until killed (prints "ready")
//   bun child-tailer.ts DB LOG RULES once   one pass to the end, then exit
import { defaultConfig } from "../../src/config/config.ts";
import { openDatabase } from "../../src/db/db.ts";
import { createTailTask } from "../../src/logs/tailer.ts";

const [dbPath, logPath, rules, mode] = process.argv.slice(2);
const db = openDatabase(dbPath);
const config = defaultConfig("/nonexistent.conf");
config.database = dbPath;
config.logs = [{ path: logPath, level: "server", rules, line: 1 }];
config.logchecktime = 0.05;
const task = createTailTask({ db, config }, { rotateGraceMs: mode === "once" ? 0 : 200 });
await task.settle();
if (mode === "once") {
  await task.stop();
  db.close();
  process.exit(0);
}
process.stdout.write("ready\n");
setInterval(() => {}, 1 << 30);
