// The scanner's figures for --status and the mail footer, from the database
// alone: the same figures the report module computed before, tolerant of a
// missing or foreign schema.
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { openDatabase, setMeta } from "../../src/db/db.ts";
import { scanCoverage, scanStatus } from "../../src/scan/status.ts";
import { makeEnv, type Env } from "./helpers.ts";

let env: Env;
afterEach(() => env?.cleanup());
import { insertEntries, setScanMeta } from "../support/scan-rows.ts";
const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);

function populated() {
  env = makeEnv();
  const db = openDatabase(env.config.database);
  insertEntries(db, NOW);
  return db;
}

describe("scanStatus", () => {
  test("entries, cycle, share checked, oldest check, speed, last cycle; the other scan.* keys in order, times marked", () => {
    const db = populated();
    setScanMeta(db, { speed: 20, lastChange: NOW - 120_000 });
    setMeta(db, "scan.bytes", 77);
    setMeta(db, "scan.cycle_start", NOW - 1_000_000);
    const s = scanStatus(db, NOW);
    db.close();
    expect(s).toEqual({
      entries: 4,
      cycle: 4,
      coverage: 0.75,
      oldestCheckAgeSec: 3600,
      speed: 20,
      lastCycleMs: 5_400_000,
      more: [
        { key: "scan.bytes", value: "77", time: false },
        { key: "scan.cycle_start", value: String(NOW - 1_000_000), time: true },
        { key: "scan.last_change", value: String(NOW - 120_000), time: true },
      ],
    });
  });

  test("without scan.cycle the highest cycle recorded counts; a value that is not a number is unknown", () => {
    const db = populated();
    setMeta(db, "scan.speed", "fast");
    setMeta(db, "scan.last_cycle_duration", "");
    const s = scanStatus(db, NOW);
    db.close();
    expect(s.cycle).toBe(4);
    expect(s.coverage).toBe(0.75);
    expect(s.speed).toBeUndefined();
    expect(s.lastCycleMs).toBeUndefined();
  });

  test("an empty database: no entries, nothing else known", () => {
    env = makeEnv();
    const db = openDatabase(env.config.database);
    expect(scanStatus(db, NOW)).toEqual({ entries: 0, cycle: undefined, speed: undefined, lastCycleMs: undefined, more: [] });
    expect(scanCoverage(db, NOW)).toEqual({ speed: undefined, entries: 0 });
    db.close();
  });

  test("a foreign schema (no entries, no meta table): every figure undefined, no throw", () => {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE other (x)");
    expect(scanStatus(db, NOW)).toEqual({ speed: undefined, lastCycleMs: undefined, more: [] });
    expect(scanCoverage(db, NOW)).toEqual({ speed: undefined });
    db.close();
  });
});

describe("scanCoverage", () => {
  test("share = scan.checked over the entries of the last cycle, capped at 1; oldest check from the index", () => {
    const db = populated();
    setMeta(db, "scan.speed", 20);
    setMeta(db, "scan.checked", 3);
    setMeta(db, "scan.last_cycle_entries", 4);
    expect(scanCoverage(db, NOW)).toEqual({ speed: 20, oldestCheckAgeSec: 3600, coverage: 0.75, entries: 4 });
    setMeta(db, "scan.checked", 9);
    expect(scanCoverage(db, NOW).coverage).toBe(1);
    db.close();
  });

  test("before the first cycle ends the share is over all entries recorded", () => {
    const db = populated();
    setMeta(db, "scan.checked", 1);
    expect(scanCoverage(db, NOW)).toEqual({ speed: undefined, oldestCheckAgeSec: 3600, coverage: 0.25, entries: 4 });
    db.close();
  });
});
