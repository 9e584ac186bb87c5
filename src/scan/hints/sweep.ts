// The metadata-first sweep of an area, after hints were lost (the kernel's
// event queue overflowed, or our own hint queue did): every recorded
// directory of the area is opened (without following, from its parent's
// descriptor: dirs.ts) and each recorded child lstat'ed by name through it;
// type, mode, owner, size, inode, mtime and ctime are compared with the
// record. Only what differs is visited (the scanner's full visit: hashed,
// compared, reported), and every directory is listed: the names not recorded
// are visited too (they are new; a new directory's whole content with it,
// after everything recorded). So 20,000 new files and one edited old one cost one lstat
// per recorded entry, and a visit only for the 20,001 that changed. A content change that keeps size, mtime and ctime
// is invisible here, as to any metadata check; the trickle's hash finds it.
//
// Contract: sweepArea(host, area) resolves when the area was swept, or at
// stop; it yields to the event loop after every directory.
import type { Database } from "bun:sqlite";
import { yieldToLoop } from "../../util/loop.ts";
import type { Attrs } from "../attrs.ts";
import { closeQuietly, listFd, OpenDirs, openSeenDir } from "../dirs.ts";
import { joinPath, pathKey, subtreeRange, type PathBytes } from "../paths.ts";
import { statAt } from "../reader.ts";

export interface SweepHost {
  readonly db: Database;
  readonly stopped: boolean;
  excluded(path: PathBytes): boolean;
  /** The scanner's visit of a path that differs (a hinted one). */
  recheck(path: PathBytes): Promise<void>;
}

/**
 * Directories are fetched one at a time after the last one swept, so a
 * directory recorded meanwhile (a hint's visit runs beside the sweep) is
 * swept too when the sweep reaches its place.
 */
const PAGE = 1;

type Row = Pick<Attrs, "type" | "mode" | "uid" | "gid" | "size" | "ino" | "mtime" | "ctime"> & { path: Uint8Array };

/** Whether the metadata differs from the record. */
export function differs(old: Row, now: Attrs): boolean {
  return old.type !== now.type || Number(old.mode) !== now.mode || Number(old.uid) !== now.uid || Number(old.gid) !== now.gid
    || BigInt(old.size) !== now.size || BigInt(old.ino) !== now.ino || BigInt(old.mtime) !== now.mtime || BigInt(old.ctime) !== now.ctime;
}

const COLS = "path, type, mode, uid, gid, size, ino, mtime, ctime";

/** The entries of a directory open as `fd` not among `known` (and not excluded), and whether each is a directory. */
function listNew(fd: number, dir: PathBytes, host: SweepHost, known: ReadonlySet<string>): { path: PathBytes; dir: boolean }[] {
  const l = listFd(fd);
  if (!l.ok) return [];
  const out: { path: PathBytes; dir: boolean }[] = [];
  for (const n of l.names) {
    const p = joinPath(dir, n);
    if (known.has(pathKey(p)) || host.excluded(p)) continue;
    const st = statAt(fd, n);
    out.push({ path: p, dir: st.ok && st.attrs.type === "dir" });
  }
  return out;
}

/** Sweep one area; returns how many paths were visited (each at most once). */
export async function sweepArea(host: SweepHost, area: PathBytes): Promise<number> {
  const [lo, hi] = subtreeRange(area);
  const dirs = host.db.query(`SELECT ${COLS} FROM entries WHERE type = 'dir' AND ((path >= ? AND path < ?) OR path = ?) AND path > ? ORDER BY path LIMIT ?`).safeIntegers(true);
  const kids = host.db.query(`SELECT ${COLS} FROM entries WHERE parent = ?`).safeIntegers(true);
  const open = new OpenDirs(32);
  let after: Uint8Array = new Uint8Array(0);
  let visited = 0;
  const done = new Set<string>();
  /** New directories found, swept last: the recorded entries (an edit hidden in a flood) come first. */
  const fresh: PathBytes[] = [];
  const recheck = async (p: PathBytes) => {
    const k = pathKey(p);
    if (done.has(k)) return;
    done.add(k);
    await host.recheck(p);
    visited++;
  };
  try {
    for (;;) {
      const page = dirs.all(lo, hi, area, after, PAGE) as Row[];
      for (const d of page) {
        if (host.stopped) return visited;
        const todo: PathBytes[] = [];
        let dirMoved = false;
        const place = open.placeOf(d.path, area);
        if (!place.ok) todo.push(d.path);
        else {
          try {
            const st = statAt(place.fd, place.name);
            if (!st.ok || st.attrs.type !== "dir") todo.push(d.path);
            else {
              dirMoved = differs(d, st.attrs);
              const o = openSeenDir(place.fd, place.name, { ino: st.attrs.ino, dev: st.dev });
              if (!o.ok) todo.push(d.path);
              else {
                try {
                  const known = new Set<string>();
                  for (const c of kids.all(d.path) as Row[]) {
                    known.add(pathKey(c.path));
                    const cs = statAt(o.fd, c.path.subarray(d.path.length + (d.path.length === 1 ? 0 : 1)));
                    if (!cs.ok || differs(c, cs.attrs)) todo.push(c.path);
                  }
                  // listed whatever its mtime says: a directory visited by a hint
                  // may be recorded with names only queued for the trickle
                  for (const c of listNew(o.fd, d.path, host, known)) {
                    todo.push(c.path);
                    if (c.dir) fresh.push(c.path);
                  }
                } finally {
                  closeQuietly(o.fd);
                }
              }
            }
          } finally {
            place.release();
          }
        }
        for (const p of todo) {
          if (host.stopped) return visited;
          await recheck(p);
        }
        if (dirMoved) await recheck(d.path);
        await yieldToLoop();
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1].path;
    }
    // a new directory: everything in it is new (its visit only queued it for the trickle)
    while (fresh.length) {
      if (host.stopped) return visited;
      const f = fresh.shift()!;
      const place = open.placeOf(f, area);
      if (!place.ok) continue;
      let inside: { path: PathBytes; dir: boolean }[] = [];
      try {
        const st = statAt(place.fd, place.name);
        const o = st.ok && st.attrs.type === "dir" ? openSeenDir(place.fd, place.name, { ino: st.attrs.ino, dev: st.dev }) : null;
        if (o?.ok) {
          try {
            inside = listNew(o.fd, f, host, new Set());
          } finally {
            closeQuietly(o.fd);
          }
        }
      } finally {
        place.release();
      }
      for (const c of inside) {
        if (host.stopped) return visited;
        await recheck(c.path);
        if (c.dir) fresh.push(c.path);
      }
      await yieldToLoop();
    }
    return visited;
  } finally {
    open.closeAll();
  }
}
