// What --status and the mail footer say about change hints (the hints table).
import { afterAll, expect, test } from "bun:test";
import { statusFacts, statusReport } from "../../../src/cli/status.ts";
import { lockDatabase } from "../../../src/db/lock.ts";
import { formatCoverage } from "../../../src/report/format.ts";
import { areaCoverage } from "../../../src/scan/hints/core.ts";
import { readCoverage, writeCoverage } from "../../../src/scan/hints/status.ts";
import { scanCoverage } from "../../../src/scan/status.ts";
import { tempDb, tempDir, testConfig } from "../../report/helpers.ts";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

test("each area live, degraded or off, and why: in --status (while the daemon runs), --json and the footer", () => {
  const db = tempDb(tmp.dir);
  const rows = [
    areaCoverage("/etc", { backend: "fanotify" }),
    areaCoverage("/usr/lib", { backend: "inotify", unwatched: 40, budget: 100 }),
  ];
  writeCoverage(db, rows, 1);
  expect(readCoverage(db)).toEqual(rows);
  const config = testConfig(tmp.dir);
  expect(statusReport(db, config)).toContain("change hints:             none: the daemon is not running");
  const lock = lockDatabase(config.database, "test");
  try {
    const s = statusReport(db, config);
    expect(s).toContain(`change hints:             live on /etc; /usr/lib degraded (${rows[1].reason})`);
    expect(s).toContain("hints:                    /etc: live (fanotify)");
    expect(s).toContain("hints:                    /usr/lib: degraded (inotify), 40 directories without a watch (watch budget hintwatches = 100 reached)");
  } finally {
    lock.release();
  }
  expect(statusFacts(db, config).hints).toEqual(rows);
  const footer = formatCoverage({ ...scanCoverage(db, Date.now()), cycleSeconds: 70_800 });
  expect(footer).toContain("every file is re-checked about every 19h 40m");
  expect(footer).toContain(`\nChange hints: live on /etc; /usr/lib degraded (${rows[1].reason}).`);
  db.close();
});
