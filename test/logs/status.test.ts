// The log follower's status rows (--status), read from the logs table.
import { afterEach, describe, expect, test } from "bun:test";
import type { Database } from "bun:sqlite";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tempDatabase, type TempDatabase } from "../support/db.ts";
import { logStatus } from "../../src/logs/status.ts";
import { newRow, saveLog } from "../../src/logs/store.ts";

let current: TempDatabase | null = null;
afterEach(() => {
  current?.cleanup();
  current = null;
});

function open(): Database {
  current = tempDatabase("integrityd-logstatus-");
  return current.db;
}

describe("logStatus", () => {
  test("one row per log, ordered by path, with the size of the file at the path now", () => {
    const d = open();
    const present = join(current!.dir, "present.log");
    writeFileSync(present, "12345");
    saveLog(d, { ...newRow(present), ino: 1, offset: 3, missing: 0 }, [], 7);
    saveLog(d, newRow(join(current!.dir, "absent.log")), [], 8);
    expect(logStatus(d)).toEqual([
      { path: join(current!.dir, "absent.log"), offset: 0, size: null, missing: true, updated: 8 },
      { path: present, offset: 3, size: 5, missing: false, updated: 7 },
    ]);
  });
});
