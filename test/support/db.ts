// A fresh integrityd database in a temp directory, for tests of a module's
// own tables. `cleanup` closes it and removes the directory.
import type { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initDatabase, openDatabase } from "../../src/db/db.ts";

export interface TempDatabase {
  db: Database;
  dir: string;
  path: string;
  cleanup(): void;
}

export function tempDatabase(prefix = "integrityd-db-"): TempDatabase {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const path = join(dir, "db.sqlite");
  initDatabase(path);
  const db = openDatabase(path);
  return {
    db, dir, path,
    cleanup() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
