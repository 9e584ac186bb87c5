// Early re-checks after a ctime move: which path the trickle re-checks ahead
// of its turn, and when. Pure (times passed in, no clock, no I/O).
//
// Why: a user can swap a file's content right after it was checked and put
// it back before the next check; mtime can be set back, only ctime cannot,
// so a visit that finds a non-directory's ctime moved since its last check
// (reported as a change, as always) has the path checked again SOON_AFTER_MS
// later: after 10 s, 1 min and 5 min, well ahead of its turn a cycle later.
// (Not after a visit that could not verify the content: it reports that.)
// A re-check that finds ctime moved again starts the schedule anew.
//
// Bounded: at most SOON_CAPACITY paths are remembered (the one noted longest
// ago is forgotten first: it still gets its turn in the cycle), in memory
// only (a restart loses the schedule, not any check). The trickle takes at
// most one early re-check per step, in the place of the stalest re-check, so
// the traversal keeps at least half of `filerate` however many are due.
import { pathKey, type PathBytes } from "./paths.ts";

/** Delays after a ctime move at which the path is checked again. */
export const SOON_AFTER_MS: readonly number[] = [10_000, 60_000, 300_000];
/** Paths remembered for early re-checks at once. */
export const SOON_CAPACITY = 1024;

export class SoonChecks {
  private readonly due = new Map<string, { path: PathBytes; at: number[] }>();

  constructor(private readonly capacity = SOON_CAPACITY, private readonly after: readonly number[] = SOON_AFTER_MS) {}

  /** The path's ctime moved at `now`: schedule its early re-checks (anew if already scheduled). */
  note(path: PathBytes, now: number): void {
    const key = pathKey(path);
    this.due.delete(key); // re-noted: to the end of the forgetting order
    this.due.set(key, { path, at: this.after.map((d) => now + d) });
    while (this.due.size > this.capacity) this.due.delete(this.due.keys().next().value!);
  }

  /** The path whose re-check is most overdue at `now` (that re-check is then taken), or null. */
  take(now: number): PathBytes | null {
    let best: string | null = null;
    let bestAt = Infinity;
    for (const [k, v] of this.due) {
      if (v.at[0] <= now && v.at[0] < bestAt) {
        best = k;
        bestAt = v.at[0];
      }
    }
    if (best === null) return null;
    const e = this.due.get(best)!;
    e.at.shift();
    if (e.at.length === 0) this.due.delete(best);
    return e.path;
  }

  get size(): number {
    return this.due.size;
  }
}
