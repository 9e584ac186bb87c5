// inotify's watches for change hints: one per directory, placed breadth
// first from each area (so the top of an area is watched first), at most
// `budget` of them; directories are found by listing (a tree not recorded
// yet is covered too), and a directory that appears later is watched when
// its creation is seen. Contract: watchTree() reports, through `unwatched`,
// the area and how many directories at least were left without a watch
// when the budget (ours, `hintwatches`, or the kernel's
// fs.inotify.max_user_watches) ran out; `reason` says which. Watches are
// placed by path with IN_DONT_FOLLOW | IN_ONLYDIR: a hint is only where to
// look, so a watch placed on the wrong directory (renamed under us) costs
// hints, never a wrong verdict.
import { yieldToLoop } from "../../util/loop.ts";
import { closeQuietly, listFd, lstatAt, openDirPath } from "../dirs.ts";
import { isWithin, joinPath, pathKey, type PathBytes } from "../paths.ts";
import { hintCalls } from "./ffi.ts";

const S_IFDIR = 0o040000n;

export interface WatchHost {
  excluded(path: PathBytes): boolean;
  readonly running: boolean;
  /** A path to re-check (hintAll: what a new directory already holds). */
  hint(path: PathBytes): void;
  /** Directories of `area` were left without a watch (at least this many). */
  unwatched(area: PathBytes, atLeast: number): void;
}

export class InotifyWatches {
  private readonly wdPath = new Map<number, PathBytes>();
  private readonly wdOf = new Map<string, number>();
  /** Why the last watch was refused (null: none was). */
  reason: string | null = null;

  constructor(private readonly fd: number, private readonly budget: number, private readonly host: WatchHost) {}

  /** The directory a watch descriptor stands for. */
  dirOf(wd: number): PathBytes | undefined {
    return this.wdPath.get(wd);
  }

  /** The kernel dropped a watch (IN_IGNORED: the directory is gone). */
  forget(wd: number): void {
    const dir = this.wdPath.get(wd);
    if (dir) this.wdOf.delete(pathKey(dir));
    this.wdPath.delete(wd);
  }

  /** Watches on directories strictly below `area`. */
  watchedBelow(area: PathBytes): number {
    let n = 0;
    for (const p of this.wdPath.values()) if (p.length > area.length && isWithin(p, area)) n++;
    return n;
  }

  /** Watch `root` and the directories below it (hintAll: hint every entry found). */
  async watchTree(root: PathBytes, area: PathBytes, hintAll: boolean): Promise<void> {
    const todo: PathBytes[] = [root];
    let n = 0;
    while (todo.length && this.host.running) {
      const dir = todo.shift()!;
      if (this.host.excluded(dir)) continue;
      if (!this.watch(dir)) {
        this.host.unwatched(area, todo.length + 1);
        return;
      }
      const o = openDirPath(dir);
      if (!o.ok) continue;
      try {
        const l = listFd(o.fd);
        if (!l.ok) continue;
        for (const name of l.names) {
          const p = joinPath(dir, name);
          if (hintAll) this.host.hint(p);
          try {
            if ((lstatAt(o.fd, name).mode & 0o170000n) === S_IFDIR) todo.push(p);
          } catch {
            // gone already
          }
        }
      } finally {
        closeQuietly(o.fd);
      }
      if (++n % 64 === 0) await yieldToLoop();
    }
  }

  /** Add a watch on a directory; false when the budget (ours or the kernel's) is spent. */
  private watch(dir: PathBytes): boolean {
    const k = pathKey(dir);
    if (this.wdOf.has(k)) return true;
    if (this.wdOf.size >= this.budget) {
      this.reason ??= `watch budget hintwatches = ${this.budget} reached`;
      return false;
    }
    try {
      const wd = hintCalls()!.inotifyWatch(this.fd, dir);
      const old = this.wdPath.get(wd);
      if (old) this.wdOf.delete(pathKey(old)); // the same directory under a new name
      this.wdPath.set(wd, dir);
      this.wdOf.set(k, wd);
      return true;
    } catch (e) {
      if ((e as { code?: string }).code === "ENOSPC") {
        this.reason = "fs.inotify.max_user_watches reached (shared with every program of the user)";
        return false;
      }
      return true; // gone, or no directory now: nothing to watch
    }
  }
}
