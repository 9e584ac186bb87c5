// Is the database we write still the database on disk, and is it sound?
//
// - Identity (cheap, every HEALTH_EVERY_MS): the database path must still name
//   the file we opened (same dev and inode), and no file SQLite holds open for
//   it (the database, its WAL) may have been deleted: SQLite would go on
//   writing into an unlinked file and everything written since would be lost
//   at the next restart. Open files are read from /proc/self/fd (a deleted
//   file's link ends in " (deleted)").
// - Soundness (PRAGMA quick_check): at open, and every QUICK_CHECK_EVERY_MS.
//   quick_check reads every page (O(database size)) and cannot be sliced: on
//   a 100 MB database it holds the event loop for a few hundred ms, once an hour.
// The judgement (`judgeIdentity`) is pure; the rest reads the file system.
import type { Database } from "bun:sqlite";
import { readdirSync, readlinkSync, statSync } from "node:fs";

export const HEALTH_EVERY_MS = 10_000;
export const QUICK_CHECK_EVERY_MS = 3_600_000;

export interface FileId {
  dev: number;
  ino: number;
}

export type HealthProblem =
  | { kind: "deleted"; text: string }
  | { kind: "replaced"; text: string }
  | { kind: "wal-deleted"; text: string }
  | { kind: "corrupt"; text: string };

/**
 * opened: the database file as opened; now: what the path names now (null:
 * nothing); deletedOpen: paths of files we hold open whose link is gone.
 */
export function judgeIdentity(path: string, opened: FileId, now: FileId | null, deletedOpen: readonly string[]): HealthProblem | null {
  if (deletedOpen.includes(path) || now === null) {
    return { kind: "deleted", text: `${path} was deleted while integrityd was using it; what was written since is lost at the next restart` };
  }
  if (now.dev !== opened.dev || now.ino !== opened.ino) {
    return { kind: "replaced", text: `${path} was replaced by another file while integrityd was using it (inode ${opened.ino} -> ${now.ino})` };
  }
  if (deletedOpen.includes(`${path}-wal`)) {
    return { kind: "wal-deleted", text: `${path}-wal was deleted while integrityd was using it; its content has been written back into ${path}` };
  }
  return null;
}

export function fileId(path: string): FileId | null {
  try {
    const st = statSync(path);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return null;
  }
}

/** Paths of this process's open files whose last link is gone. */
export function deletedOpenFiles(): string[] {
  const out: string[] = [];
  let fds: string[];
  try {
    fds = readdirSync("/proc/self/fd");
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const t = readlinkSync(`/proc/self/fd/${fd}`);
      if (t.endsWith(" (deleted)")) out.push(t.slice(0, -" (deleted)".length));
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** The first problems PRAGMA quick_check finds (empty: sound). Throws only what SQLite throws. */
export function quickCheck(db: Database, max = 5): string[] {
  const rows = db.query(`PRAGMA quick_check(${Math.max(1, Math.floor(max))})`).all() as { quick_check: string }[];
  const msgs = rows.map((r) => String(r.quick_check));
  return msgs.length === 1 && msgs[0] === "ok" ? [] : msgs;
}

/** True when an error thrown by SQLite says the file is damaged. */
export function isCorruption(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return err?.code === "SQLITE_CORRUPT" || err?.code === "SQLITE_NOTADB" || /malformed|not a database/i.test(String(err?.message ?? ""));
}
