// Staleness: how long a full cycle should take at the current rates, and
// whether the cycle under way runs behind that. Pure (figures in, verdict
// out; no clock, no I/O).
//
// A cycle visits every entry once at `filerate` × speed (the traversal and
// the stalest re-check both advance it), while the big-file lane reads every
// file above `smallfiles` at `byterate` × speed beside it: the cycle takes
// the longer of the two. A cycle is behind when it has run more than
// BEHIND_FACTOR times that (a slow disk, a suspended machine, rates changed
// mid-cycle); the caller reports that once per cycle.
export const BEHIND_FACTOR = 1.2;

export interface CycleFigures {
  entries: number;
  /** bytes in files above smallfiles (read by the lane) */
  bigBytes: number;
  filerate: number;
  byterate: number;
  speed: number;
}

/** Milliseconds a full cycle takes at these rates (null: nothing to go by). */
export function expectedCycleMs(f: CycleFigures): number | null {
  const speed = Math.max(1, f.speed);
  if (!(f.entries >= 0) || !(f.filerate > 0) || !(f.byterate > 0)) return null;
  return 1000 * Math.max(f.entries / (f.filerate * speed), Math.max(0, f.bigBytes) / (f.byterate * speed));
}

/** Whether a cycle `elapsedMs` old runs behind its expected time. */
export function isBehind(elapsedMs: number, expectedMs: number | null): boolean {
  return expectedMs !== null && expectedMs > 0 && elapsedMs > BEHIND_FACTOR * expectedMs;
}
