// A scanner's state as tests of its figures need it: four entries of /etc
// checked 1 h, 1 min and 1 s (twice) before `now`, in cycles 3 and 4.
import type { Database } from "bun:sqlite";

export function insertEntries(db: Database, now: number): void {
  const ins = db.query(
    "INSERT INTO entries (path, parent, type, mode, uid, gid, size, ino, nlink, mtime, ctime, checked, cycle) VALUES (?, ?, 'file', 420, 0, 0, 1, 1, 1, 0, 0, ?, ?)",
  );
  ins.run(Buffer.from("/etc/a"), Buffer.from("/etc"), now - 3_600_000, 3);
  ins.run(Buffer.from("/etc/b"), Buffer.from("/etc"), now - 60_000, 4);
  ins.run(Buffer.from("/etc/c"), Buffer.from("/etc"), now - 1000, 4);
  ins.run(Buffer.from("/etc/d"), Buffer.from("/etc"), now - 1000, 4);
}
