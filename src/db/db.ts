// Opening, creating and upgrading the database. Every failure becomes an
// ExitError with a one-line message naming the file and the cause (exit 74).
import { Database } from "bun:sqlite";
import { closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { EX_CONFIG, EX_IOERR, ExitError } from "../util/exit.ts";
import { quickCheck } from "./health.ts";
import schemaSql from "./schema.sql" with { type: "text" };

/** PRAGMA application_id of an integrityd database: "IDMD". */
export const APPLICATION_ID = 0x49444d44;
export const SCHEMA_VERSION = 2;

/**
 * Migrations: MIGRATIONS[v] upgrades a database of version v to v+1. The schema
 * file is then applied as a whole (it is idempotent), so a migration only has to
 * do what CREATE ... IF NOT EXISTS cannot: ALTER TABLE, data moves.
 */
const MIGRATIONS: Record<number, string> = {
  // the log follower's second fingerprint (bytes before the offset) and the owner of the file followed
  1: `ALTER TABLE logs ADD COLUMN tailprint BLOB;
      ALTER TABLE logs ADD COLUMN uid INTEGER NOT NULL DEFAULT -1;`,
};

function cause(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const msg = err.message ?? String(e);
  if (err.code === "SQLITE_NOTADB" || /not a database/i.test(msg)) return "not a database file (corrupt or foreign)";
  if (err.code === "SQLITE_CORRUPT" || /malformed/i.test(msg)) return "database is corrupt";
  if (err.code === "SQLITE_READONLY" || /readonly/i.test(msg)) return "read-only location or file";
  if (err.code === "SQLITE_CANTOPEN" || /unable to open/i.test(msg)) return "cannot open (missing directory or no permission)";
  return msg.split("\n")[0];
}

function ioError(path: string, e: unknown): ExitError {
  return new ExitError(EX_IOERR, `${path}: ${cause(e)}`);
}

function tune(db: Database): void {
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA foreign_keys = ON");
}

function isOurs(db: Database): boolean {
  const app = (db.query("PRAGMA application_id").get() as { application_id: number }).application_id;
  if (app !== APPLICATION_ID) return false;
  return db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() != null;
}

function userVersion(db: Database): number {
  return (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
}

/**
 * Create or upgrade the database at `path`. Idempotent. Creates the parent
 * directory 0700 and the file 0600 when missing. Refuses an existing file that
 * is not an integrityd database.
 */
export function initDatabase(path: string): { created: boolean; from: number; to: number } {
  let created = false;
  try {
    const dir = dirname(path);
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!existsSync(path)) {
      closeSync(openSync(path, "wx", 0o600));
      created = true;
    } else if (!statSync(path).isFile()) {
      throw new Error("not a regular file");
    }
  } catch (e) {
    throw ioError(path, e);
  }
  let db: Database | undefined;
  try {
    db = new Database(path, { readwrite: true, create: false, strict: true });
    const empty = statSync(path).size === 0;
    if (!empty && !isOurs(db)) {
      throw new ExitError(EX_IOERR, `${path}: exists but is not an integrityd database; refusing to touch it`);
    }
    tune(db);
    const from = empty ? 0 : userVersion(db);
    if (from > SCHEMA_VERSION) {
      throw new ExitError(EX_IOERR, `${path}: schema version ${from} is newer than this integrityd (${SCHEMA_VERSION}); upgrade integrityd`);
    }
    db.transaction(() => {
      // a new database (from 0) gets the whole schema at once; an older one its migrations first
      if (from > 0) for (let v = from; v < SCHEMA_VERSION; v++) if (MIGRATIONS[v]) db!.exec(MIGRATIONS[v]);
      db!.exec(schemaSql);
      db!.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
      db!.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      db!.query("INSERT OR IGNORE INTO meta (key, value) VALUES ('created', ?)").run(String(Date.now()));
      db!.query("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
    }).immediate();
    return { created, from, to: SCHEMA_VERSION };
  } catch (e) {
    if (e instanceof ExitError) throw e;
    throw ioError(path, e);
  } finally {
    db?.close();
  }
}

/**
 * Open an existing integrityd database. A missing file is a configuration
 * problem (exit 78): a deleted database must never silently become a new baseline.
 * `beside`: a child working beside the running daemon (packages/backfillchild.ts),
 * which has applied the schema and checked the file: read-write, without the
 * schema's statements, the quick_check over the whole file, or the "opened" stamp.
 */
export function openDatabase(path: string, opts: { readonly?: boolean; beside?: boolean } = {}): Database {
  if (!existsSync(path)) {
    throw new ExitError(EX_CONFIG, `${path}: database does not exist; run 'integrityd --init-db' first`);
  }
  let db: Database | undefined;
  try {
    db = new Database(path, opts.readonly ? { readonly: true, strict: true } : { readwrite: true, create: false, strict: true });
    if (!isOurs(db)) throw new ExitError(EX_IOERR, `${path}: not an integrityd database`);
    const v = userVersion(db);
    if (v !== SCHEMA_VERSION) {
      throw new ExitError(EX_IOERR, `${path}: schema version ${v}, this integrityd needs ${SCHEMA_VERSION}; run 'integrityd --init-db' to upgrade`);
    }
    if (opts.readonly) db.exec("PRAGMA busy_timeout = 5000");
    else if (opts.beside) tune(db);
    else {
      tune(db);
      // every statement of the schema is CREATE ... IF NOT EXISTS: additions
      // within a schema version (a new index) reach existing databases here
      db.exec(schemaSql);
      // a database opened read-write must be sound and writable, now rather
      // than at the first event (an immutable or read-only file is opened
      // read-only by SQLite without a word)
      const problems = quickCheck(db);
      if (problems.length) throw new ExitError(EX_IOERR, `${path}: database is corrupt (quick_check: ${problems.join("; ").replace(/\s+/g, " ").slice(0, 200)})`);
      setMeta(db, "opened", Date.now());
    }
    db.query("SELECT count(*) FROM meta").get(); // touches the pages: corruption shows now
    return db;
  } catch (e) {
    db?.close();
    if (e instanceof ExitError) throw e;
    throw ioError(path, e);
  }
}

export function getMeta(db: Database, key: string): string | undefined {
  const row = db.query("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | null;
  return row?.value;
}

export function setMeta(db: Database, key: string, value: string | number): void {
  db.query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(key, String(value));
}
