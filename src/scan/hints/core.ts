// What change hints decide, without I/O or clock (times are passed in):
//
// HintQueue: which hinted path is re-checked next. A hint is only "look
// here": the re-check (the scanner's visit, the same checks as the trickle)
// is the truth. Paths are deduplicated; a path re-checked less than HOLD_MS
// ago waits until then (a file written continuously costs one re-check per
// HOLD_MS, not one per write); the writer named last for a path is kept with
// it. Bounded: at most `capacity` distinct paths wait; one more is our own
// overflow, handled like the kernel's (a metadata sweep of its area).
//
// Coverage: what --status and the mail footer say about each area: live
// (hints arrive), degraded (some of it is not watched, or a sweep after an
// overflow is under way, and why), or off (the trickle alone, and why).
import { pathKey, type PathBytes } from "../paths.ts";
import type { Writer } from "./writer.ts";

export const HOLD_MS = 1000;
export const HINT_CAPACITY = 8192;

export interface Hinted {
  path: PathBytes;
  writer: Writer | null;
}

export class HintQueue {
  private readonly waiting = new Map<string, Hinted & { due: number }>();
  /** When each path was last taken (forgotten HOLD_MS later). */
  private readonly lastTaken = new Map<string, number>();

  constructor(private readonly capacity = HINT_CAPACITY, private readonly holdMs = HOLD_MS) {}

  /** A hint for `path` at `now`: false when the queue is full (an overflow: sweep the area). */
  add(path: PathBytes, writer: Writer | null, now: number): boolean {
    const key = pathKey(path);
    const had = this.waiting.get(key);
    if (had) {
      if (writer) had.writer = writer;
      return true;
    }
    if (this.waiting.size >= this.capacity) return false;
    const last = this.lastTaken.get(key);
    const due = last !== undefined && now - last < this.holdMs ? last + this.holdMs : now;
    this.waiting.set(key, { path, writer, due });
    return true;
  }

  /** The next path due at `now` (first hinted first), or null. */
  take(now: number): Hinted | null {
    for (const [key, h] of this.waiting) {
      if (h.due > now) continue;
      this.waiting.delete(key);
      this.lastTaken.set(key, now);
      if (this.lastTaken.size > this.capacity) this.forget(now);
      return { path: h.path, writer: h.writer };
    }
    return null;
  }

  /** Milliseconds until the next path is due (null: none waits). */
  nextDue(now: number): number | null {
    let best: number | null = null;
    for (const h of this.waiting.values()) best = best === null ? h.due : Math.min(best, h.due);
    return best === null ? null : Math.max(0, best - now);
  }

  /** Drop what waits (an overflow's sweep looks at everything anyway). */
  clear(): void {
    this.waiting.clear();
  }

  get size(): number {
    return this.waiting.size;
  }

  private forget(now: number): void {
    for (const [k, t] of this.lastTaken) if (now - t >= this.holdMs) this.lastTaken.delete(k);
  }
}

export type Backend = "fanotify" | "inotify" | "none";
export type CoverageState = "live" | "degraded" | "off";

/** One area's hint coverage. */
export interface AreaCoverage {
  area: string;
  backend: Backend;
  state: CoverageState;
  reason: string;
}

/**
 * An area's coverage from what its backend reports: fanotify marks the whole
 * file system (live, or off when the mark failed); inotify is live while every
 * directory has a watch, degraded with `unwatched` directories left out; a
 * sweep under way after an overflow degrades either until it ends.
 */
export function areaCoverage(
  area: string,
  b: { backend: Backend; failed?: string; unwatched?: number; budget?: number; budgetReason?: string; sweeping?: boolean },
): AreaCoverage {
  if (b.backend === "none") return { area, backend: b.backend, state: "off", reason: b.failed ?? "hints are off" };
  if (b.failed) return { area, backend: b.backend, state: "off", reason: b.failed };
  const why: string[] = [];
  if (b.unwatched && b.unwatched > 0) {
    why.push(`${b.unwatched} director${b.unwatched === 1 ? "y" : "ies"} without a watch (${b.budgetReason ?? `watch budget hintwatches = ${b.budget} reached`}); the trickle alone checks them`);
  }
  if (b.sweeping) why.push("the kernel's event queue overflowed; a metadata sweep of the area is under way");
  return { area, backend: b.backend, state: why.length ? "degraded" : "live", reason: why.join("; ") };
}

/** The footer's and --status's one line about hints. */
export function coverageSummary(rows: readonly AreaCoverage[]): string {
  if (rows.length === 0) return "change hints: none";
  const live = rows.filter((r) => r.state === "live");
  if (live.length === rows.length) return `change hints: live on every area (${[...new Set(rows.map((r) => r.backend))].join(", ")})`;
  const bad = rows.filter((r) => r.state !== "live").map((r) => `${r.area} ${r.state}${r.reason ? ` (${r.reason})` : ""}`);
  return `change hints: ${live.length ? `live on ${live.map((r) => r.area).join(", ")}; ` : ""}${bad.join("; ")}`;
}
