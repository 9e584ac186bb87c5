// Tailer bench: throughput on a large backlog and the longest event-loop stall
// while it is worked off (the daemon's other tasks must keep running: < 50 ms).
//   bun bench/tailer/run.ts [MB]
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig } from "../../src/config/config.ts";
import { initDatabase, openDatabase } from "../../src/db/db.ts";
import { createTailTask } from "../../src/logs/tailer.ts";

const MB = Number(process.argv[2] ?? 50);
const dir = mkdtempSync(join(tmpdir(), "integrityd-bench-tailer-"));
try {
  const dbPath = join(dir, "db.sqlite");
  initDatabase(dbPath);
  const db = openDatabase(dbPath);
  const rules = join(dir, "rules");
  mkdirSync(join(rules, "ignore.d.server"), { recursive: true });
  // a typical mix: 9 of 10 lines ignored, 1 reported
  writeFileSync(join(rules, "ignore.d.server", "bench"), "^[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} [^ ]+ CRON\\[[0-9]+\\]: \\(root\\) CMD \\(.*\\)$\n");
  const log = join(dir, "syslog");
  writeFileSync(log, "");
  const config = defaultConfig(join(dir, "x.conf"));
  config.database = dbPath;
  config.logs = [{ path: log, level: "server", rules, line: 1 }];
  config.logchecktime = 3600;
  const task = createTailTask({ db, config });
  await task.settle();

  const lines: string[] = [];
  for (let i = 0; i < 10_000; i++) {
    lines.push(i % 10 === 0
      ? `Jan  1 00:00:00 host sshd[${i}]: Accepted publickey for user${i} from 192.0.2.${i % 250} port ${1024 + i} ssh2`
      : `Jan  1 00:00:00 host CRON[${i}]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1 ${i})`);
  }
  const block = lines.join("\n") + "\n";
  const reps = Math.ceil((MB * 1024 * 1024) / block.length);
  for (let r = 0; r < reps; r++) appendFileSync(log, block);
  const bytes = reps * block.length;

  let maxLag = 0;
  let last = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    maxLag = Math.max(maxLag, now - last - 5);
    last = now;
  }, 5);
  const t0 = performance.now();
  await task.settle();
  const secs = (performance.now() - t0) / 1000;
  clearInterval(probe);
  const queued = (db.query("SELECT count(*) AS n FROM events").get() as { n: number }).n;
  console.log(`tailer: ${(bytes / 1048576).toFixed(0)} MB, ${reps * 10_000} lines in ${secs.toFixed(2)} s: ` +
    `${Math.round((reps * 10_000) / secs)} lines/s, ${(bytes / 1048576 / secs).toFixed(1)} MB/s, ${queued} queued; ` +
    `longest event-loop stall ${maxLag.toFixed(1)} ms`);
  await task.stop();
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
