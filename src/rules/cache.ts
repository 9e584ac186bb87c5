// The compiled-rules cache: a rule set compiled once is kept as snapshot
// bytes (snapshot.ts) keyed by everything its verdicts depend on, so the next
// load of the same rules is decoding instead of compiling (Debian's server
// level: ~1.5 s CPU cold, see load.ts's header for the warm figure).
//
// Key: SHA-256 over the engine's build (ENGINE_ID: the hash of every source
// file of src/rules, taken when the program is built - engine-macro.ts), the
// snapshot format, Bun's version, and the selected rule set exactly as the
// compiler sees it (level, cracking-ignore, every selected file's name and
// cleaned rule lines with their line numbers, and the problems met reading
// them). A changed rule file, level or build is a different key: a miss.
// Value: the snapshot bytes, zstd-compressed, and their SHA-256, checked on every read; a
// damaged, truncated or foreign entry is reported in one line and the rules
// are compiled afresh (and the entry replaced), never used.
//
// Where it lives: the table rule_cache of the daemon's database (this
// module's; src/db/schema.sql), the last KEEP entries written (a read does
// not write: updating a row rewrites its whole value, ~70 ms for Debian's). The daemon's
// own database is trusted as the rest of its state. --test-rules uses the
// config's database only when it exists and can be trusted: every component
// of its path owned by root or us and writable by no one else
// (config/trust.ts), the file itself ours and a regular file, an integrityd
// database that already has the table (the daemon or --init-db made it).
// Otherwise --test-rules runs without a cache (and --explain says so): no
// other file is ever written, and nothing is read from a place another user
// could have written.

import type { Database } from "bun:sqlite";
import { Database as SqliteDatabase } from "bun:sqlite";
import { createHash } from "node:crypto";
import { lstatSync } from "node:fs";
import { resolve } from "node:path";
import { untrustedPath } from "../config/trust.ts";
import { APPLICATION_ID } from "../db/db.ts";
import { engineSourceHash } from "./engine-macro.ts" with { type: "macro" };
import type { RuleSet } from "./home.ts";
import { SNAPSHOT_FORMAT } from "./snapshot.ts";

export const ENGINE_ID: string = engineSourceHash();
/** Entries kept in the table (one per rule set the host uses, a few reloads back). */
export const KEEP = 6;

/** A compiled rule set as stored: zstd-compressed snapshot bytes and their SHA-256 (hex). */
export type SealedEntry = { sum: string; value: Uint8Array };

/** A place to keep compiled rule sets. get returns null on a miss; neither throws. */
export interface RuleCacheStore {
  get(key: string): SealedEntry | null;
  put(key: string, sum: string, value: Uint8Array): void;
  /** a short name for notices: "database /var/lib/integrityd/state.db" */
  readonly where: string;
}

export function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A snapshot as it is stored: zstd-compressed (Debian's server level: 3.8 MB -> ~0.4 MB, read back in a fraction of the time) and its checksum. */
export function sealEntry(snapshot: Uint8Array): SealedEntry {
  const value = Bun.zstdCompressSync(snapshot, { level: 3 });
  return { sum: sha256(value), value };
}

/** The snapshot bytes of a stored entry; throws "checksum mismatch" or the decompressor's complaint. */
export function openEntry(e: SealedEntry): Uint8Array {
  if (sha256(e.value) !== e.sum) throw new Error("checksum mismatch");
  return Bun.zstdDecompressSync(e.value);
}

/** The cache key of a selected rule set (see the header). */
export function ruleSetCacheKey(set: RuleSet): string {
  return sha256(JSON.stringify([ENGINE_ID, SNAPSHOT_FORMAT, Bun.version, set]));
}

/** The cache in a database that has the rule_cache table. */
export function dbRuleCache(db: Database, where = "database"): RuleCacheStore {
  return {
    where,
    get(key) {
      try {
        const row = db.query("SELECT sum, value FROM rule_cache WHERE key = ?").get(key) as { sum: unknown; value: unknown } | null;
        if (row === null) return null;
        const value = row.value instanceof Uint8Array ? row.value : new Uint8Array(0);
        return { sum: typeof row.sum === "string" ? row.sum : "", value };
      } catch {
        return null;
      }
    },
    put(key, sum, value) {
      try {
        db.transaction(() => {
          db.query("INSERT OR REPLACE INTO rule_cache (key, sum, value, created) VALUES (?, ?, ?, ?)").run(key, sum, value, Date.now());
          db.query("DELETE FROM rule_cache WHERE key NOT IN (SELECT key FROM rule_cache ORDER BY created DESC, rowid DESC LIMIT ?)").run(KEEP);
        }).immediate();
      } catch {
        // a full disk or a busy database costs the next load its cache, nothing else
      }
    },
  };
}

/**
 * The cache for --test-rules: the config's database when it can be trusted
 * (see the header), else null and why. The caller closes `db`.
 */
export function openTrustedCache(database: string, me = process.geteuid?.() ?? 0): { store: RuleCacheStore; db: Database } | { why: string } {
  const path = resolve(database);
  const why = untrustedPath(path, me);
  if (why !== null) return { why };
  try {
    const st = lstatSync(path);
    if (!st.isFile()) return { why: `${path}: not a regular file` };
    if (st.uid !== me) return { why: `${path}: not owned by this user` };
  } catch (e) {
    return { why: `${path}: ${(e as Error).message}` };
  }
  let db: Database | null = null;
  try {
    db = new SqliteDatabase(path, { readwrite: true, create: false, strict: true });
    db.exec("PRAGMA busy_timeout = 2000");
    const app = (db.query("PRAGMA application_id").get() as { application_id: number }).application_id;
    if (app !== APPLICATION_ID) throw new Error("not an integrityd database");
    if (db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'rule_cache'").get() == null) throw new Error("no rule_cache table yet (run integrityd --init-db)");
    return { store: dbRuleCache(db, `database ${path}`), db };
  } catch (e) {
    db?.close();
    return { why: `${path}: ${(e as Error).message}` };
  }
}
