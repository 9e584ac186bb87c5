// A scanner's state as tests of its figures need it: four entries of /etc
// checked 1 h, 1 min and 1 s (twice) before `now`, in cycles 3 and 4.
import type { Database } from "bun:sqlite";
import { setMeta } from "../../src/db/db.ts";

export function insertEntries(db: Database, now: number): void {
  const ins = db.query(
    "INSERT INTO entries (path, parent, type, mode, uid, gid, size, ino, nlink, mtime, ctime, checked, cycle) VALUES (?, ?, 'file', 420, 0, 0, 1, 1, 1, 0, 0, ?, ?)",
  );
  ins.run(Buffer.from("/etc/a"), Buffer.from("/etc"), now - 3_600_000, 3);
  ins.run(Buffer.from("/etc/b"), Buffer.from("/etc"), now - 60_000, 4);
  ins.run(Buffer.from("/etc/c"), Buffer.from("/etc"), now - 1000, 4);
  ins.run(Buffer.from("/etc/d"), Buffer.from("/etc"), now - 1000, 4);
}

/**
 * The scanner's meta figures for those entries: cycle 4 with 3 of its 4
 * entries checked, the last cycle took 1 h 30 min, at `speed`; the last
 * change at `lastChange` when given.
 */
export function setScanMeta(db: Database, o: { speed: number; lastChange?: number }): void {
  setMeta(db, "scan.cycle", 4);
  setMeta(db, "scan.checked", 3);
  setMeta(db, "scan.last_cycle_entries", 4);
  setMeta(db, "scan.speed", o.speed);
  setMeta(db, "scan.last_cycle_duration", 5_400_000);
  if (o.lastChange !== undefined) setMeta(db, "scan.last_change", o.lastChange);
}
