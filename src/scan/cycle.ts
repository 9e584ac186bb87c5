// Cycle bookkeeping: which traversal cycle this is, what it has checked, the
// speed factor, and the scanner's keys in the meta table. This module owns
// those keys (read back by --status and the mail footer through status.ts):
//
//   scan.cycle                  current traversal cycle, 1 = the first pass (absent: never started)
//   scan.cycle_start            ms since the epoch when the current cycle began
//   scan.checked                entries checked in the current cycle (flushed about once a second)
//   scan.bytes                  bytes hashed in the current cycle (flushed with scan.checked)
//   scan.first_pass_complete    "1" once a full pass has completed (the baseline exists), else "0"
//   scan.first_pass_start       ms since the epoch when the first pass began
//   scan.speed                  current speed factor (1 .. speedup)
//   scan.cycle_changes          changes (new/changed/deleted) found in the current cycle
//   scan.last_cycle_duration    ms the last completed cycle took
//   scan.last_cycle_end         ms since the epoch when the last cycle completed
//   scan.last_cycle_checked     entries checked in the last completed cycle
//   scan.last_cycle_entries     entries recorded at the end of the last completed cycle
//   scan.last_change            ms since the epoch of the last reported change
//
// Every write here runs inside the caller's transaction (the visit's or the
// cycle's own). Times come from the caller; the speed decisions are pace.ts's.
import type { Database } from "bun:sqlite";
import { getMeta, setMeta } from "../db/db.ts";
import { effectiveSpeed, speedOnChange, speedOnCycleEnd, type Pacer, type SpeedState } from "./pace.ts";

export const META = {
  cycle: "scan.cycle",
  cycleStart: "scan.cycle_start",
  checked: "scan.checked",
  bytes: "scan.bytes",
  firstPassComplete: "scan.first_pass_complete",
  firstPassStart: "scan.first_pass_start",
  speed: "scan.speed",
  cycleChanges: "scan.cycle_changes",
  lastCycleDuration: "scan.last_cycle_duration",
  lastCycleEnd: "scan.last_cycle_end",
  lastCycleChecked: "scan.last_cycle_checked",
  lastCycleEntries: "scan.last_cycle_entries",
  lastChange: "scan.last_change",
} as const;

/** How often the in-memory counters are written to meta. */
const FLUSH_MS = 1000;

/**
 * The current cycle's counters (in memory, flushed to meta about once a
 * second and at the cycle's end) and the speed factor, which the pacer
 * follows.
 */
export class CycleBook {
  /** Current cycle (0: never started). */
  number = 0;
  /** Entries checked and bytes hashed in the current cycle. */
  checked = 0;
  bytes = 0;
  private lastFlush = 0;
  private speed: SpeedState = { speed: 1, cycleChanges: 0, firstPassComplete: false };

  constructor(private readonly db: Database, private readonly pacer: Pacer, private speedup: number) {
    const num = (k: string, d: number) => {
      const v = getMeta(db, k);
      const n = Number(v);
      return v !== undefined && Number.isFinite(n) ? n : d;
    };
    this.number = num(META.cycle, 0);
    this.checked = num(META.checked, 0);
    this.bytes = num(META.bytes, 0);
    this.speed = {
      speed: num(META.speed, speedup),
      cycleChanges: num(META.cycleChanges, 0),
      firstPassComplete: getMeta(db, META.firstPassComplete) === "1",
    };
    this.pacer.speed = effectiveSpeed(this.speed, speedup);
  }

  get firstPassComplete(): boolean {
    return this.speed.firstPassComplete;
  }

  /** A new `speedup` (reload): the pacer's speed is re-derived from the state. */
  setSpeedup(speedup: number): void {
    this.speedup = speedup;
    this.pacer.speed = effectiveSpeed(this.speed, speedup);
  }

  /** Begin the next cycle (the caller queues the areas in the same transaction). */
  begin(now: number): void {
    this.number += 1;
    this.checked = 0;
    this.bytes = 0;
    this.speed = { ...this.speed, cycleChanges: 0 };
    setMeta(this.db, META.cycle, this.number);
    setMeta(this.db, META.cycleStart, now);
    setMeta(this.db, META.cycleChanges, 0);
    if (getMeta(this.db, META.firstPassComplete) === undefined) setMeta(this.db, META.firstPassComplete, 0);
    if (getMeta(this.db, META.firstPassStart) === undefined) setMeta(this.db, META.firstPassStart, now);
    if (getMeta(this.db, META.speed) === undefined) setMeta(this.db, META.speed, this.pacer.speed);
    this.flush(now);
  }

  /** One entry checked (hashed: bytes read for it). */
  count(hashed: number): void {
    this.checked += 1;
    this.bytes += hashed;
  }

  /** Write the counters if the last write is a second old. */
  flushSoon(now: number): void {
    if (now - this.lastFlush >= FLUSH_MS) this.flush(now);
  }

  private flush(now: number): void {
    setMeta(this.db, META.checked, this.checked);
    setMeta(this.db, META.bytes, this.bytes);
    this.lastFlush = now;
  }

  /** A change was reported: speed up (until a clean cycle ends). */
  noteChange(now: number): void {
    this.speed = speedOnChange(this.speed, this.speedup);
    this.pacer.speed = this.speed.speed;
    setMeta(this.db, META.speed, this.speed.speed);
    setMeta(this.db, META.cycleChanges, this.speed.cycleChanges);
    setMeta(this.db, META.lastChange, now);
  }

  /**
   * The cycle is complete with `entries` recorded. Returns, when it was the
   * first pass, how long that took (ms since it began): the caller reports the
   * baseline. The caller then begins the next cycle.
   */
  end(now: number, entries: number): { firstPassMs: number | null } {
    const start = Number(getMeta(this.db, META.cycleStart) ?? now);
    let firstPassMs: number | null = null;
    if (!this.speed.firstPassComplete) firstPassMs = now - Number(getMeta(this.db, META.firstPassStart) ?? start);
    this.speed = speedOnCycleEnd(this.speed, this.speedup);
    this.pacer.speed = this.speed.speed;
    setMeta(this.db, META.firstPassComplete, 1);
    setMeta(this.db, META.speed, this.speed.speed);
    setMeta(this.db, META.lastCycleDuration, now - start);
    setMeta(this.db, META.lastCycleEnd, now);
    setMeta(this.db, META.lastCycleChecked, this.checked);
    setMeta(this.db, META.lastCycleEntries, entries);
    return { firstPassMs };
  }
}
