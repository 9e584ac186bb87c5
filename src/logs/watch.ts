// Directory watches for the log follower: fs.watch on the directory of each
// log (and, for a symlinked log, on its target's directory), so a new line is
// read well within a second without waiting for the poll. Events are
// debounced: a burst in any watched directories gives one wake-up, after
// `debounceMs`, naming the logs of those directories.
//
// A directory that is missing, cannot be watched, or whose watch failed is left
// to polling; `update` (called at every poll) tries again, and re-watches a
// directory that was removed and created again (its inode changed).
import { realpathSync, statSync, watch, type FSWatcher } from "node:fs";
import { dirname } from "node:path";

export class DirWatches {
  private readonly watchers = new Map<string, FSWatcher | null>();
  /** dir -> "dev:ino" it had when the watch was set */
  private readonly watchedIds = new Map<string, string>();
  /** directory -> the logs it holds (a symlinked log: its link's and its target's directories) */
  private readonly dirLogs = new Map<string, Set<string>>();
  private readonly dirsWoken = new Set<string>();
  private debounce: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(private readonly debounceMs: number, private readonly onWake: (paths: Set<string>) => void) {}

  /** Watch the directories of these logs (and only those). */
  update(paths: Iterable<string>): void {
    if (this.closed) return;
    const { watchers, watchedIds, dirLogs } = this;
    dirLogs.clear();
    const add = (d: string, p: string) => {
      let set = dirLogs.get(d);
      if (!set) dirLogs.set(d, (set = new Set()));
      set.add(p);
    };
    for (const p of paths) {
      add(dirname(p), p);
      try {
        add(dirname(realpathSync(p)), p);
      } catch {
        /* missing: its own directory only */
      }
    }
    const dirs = new Set(dirLogs.keys());
    for (const [d, w] of watchers) {
      if (!dirs.has(d)) {
        w?.close();
        watchers.delete(d);
      }
    }
    for (const d of dirs) {
      // a directory removed and created again needs a new watch: compare its inode
      let key = "";
      try {
        const st = statSync(d);
        key = `${st.dev}:${st.ino}`;
      } catch {
        /* missing */
      }
      const w = watchers.get(d);
      if (w && watchedIds.get(d) === key) continue;
      w?.close();
      watchers.set(d, null);
      if (!key) continue; // directory missing: polling only, retried at the next update
      try {
        const nw = watch(d, { persistent: false }, () => this.wakeDir(d));
        nw.on("error", () => {
          nw.close();
          if (watchers.get(d) === nw) watchers.set(d, null); // retried at the next update
        });
        watchers.set(d, nw);
        watchedIds.set(d, key);
      } catch {
        /* not watchable: polling only, retried at the next update */
      }
    }
  }

  /** Stop watching; no wake-up after this. */
  close(): void {
    this.closed = true;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = null;
    for (const w of this.watchers.values()) w?.close();
    this.watchers.clear();
  }

  private wakeDir(dir: string): void {
    if (this.closed) return;
    this.dirsWoken.add(dir);
    if (this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = null;
      const dirs = new Set(this.dirsWoken);
      this.dirsWoken.clear();
      const paths = new Set<string>();
      for (const d of dirs) for (const p of this.dirLogs.get(d) ?? []) paths.add(p);
      this.onWake(paths);
    }, this.debounceMs);
  }
}
