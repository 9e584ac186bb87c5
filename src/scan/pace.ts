// Pacing: pure arithmetic on times the caller passes in (no clock, no timers).
//
// - `filerate` entries per second, times the speed factor.
// - Files larger than `smallfiles` are read at `byterate` bytes per second
//   (times the speed factor) in small chunks; smaller files in one go.
// - Falling behind (a slow disk, a suspended machine, a long file) never causes
//   a catch-up burst: a gate that is late by more than one operation (or
//   `slackMs`) restarts from now. The slack only absorbs timer jitter, so
//   measured rates stay accurate.
// - The speed factor is `speedup` during the first pass and after a change was
//   found; it returns to 1 at the end of a full cycle in which nothing changed.

export interface Rates {
  filerate: number;
  byterate: number;
  smallfiles: number;
  speedup: number;
}

/** A schedule of operations spaced by their cost in milliseconds. */
export class Gate {
  private next = Number.NEGATIVE_INFINITY;
  constructor(private readonly slackMs: number) {}

  /**
   * Book an operation costing `costMs`; returns how long to wait before doing
   * it. If the schedule is more than slackMs behind `now`, it restarts at now.
   */
  reserve(now: number, costMs: number): number {
    let start = this.next;
    // At most one operation's worth (and at most slackMs) may be made up.
    if (start < now - Math.min(this.slackMs, costMs)) start = now;
    this.next = start + costMs;
    return Math.max(0, start - now);
  }

  /** Forget the past (e.g. after a rate change). */
  reset(): void {
    this.next = Number.NEGATIVE_INFINITY;
  }
}

export class Pacer {
  private rates: Rates;
  private readonly entries: Gate;
  private readonly bytes: Gate;
  /** Current speed factor (1 .. speedup). */
  speed = 1;
  /** Full speed: no waiting at all (--scan-once). */
  unlimited = false;

  constructor(rates: Rates, opts: { slackMs?: number; unlimited?: boolean } = {}) {
    this.rates = { ...rates };
    const slack = opts.slackMs ?? 250;
    this.entries = new Gate(slack);
    this.bytes = new Gate(slack);
    this.unlimited = !!opts.unlimited;
  }

  setRates(rates: Rates): void {
    this.rates = { ...rates };
    if (this.speed > rates.speedup) this.speed = rates.speedup;
    this.entries.reset();
    this.bytes.reset();
  }

  get config(): Readonly<Rates> {
    return this.rates;
  }

  /** Milliseconds to wait before visiting the next entry. */
  entryWait(now: number): number {
    if (this.unlimited) return 0;
    return this.entries.reserve(now, 1000 / (this.rates.filerate * this.speed));
  }

  /** Whether a file of this size is read in one go (no byte pacing). */
  isSmall(size: number): boolean {
    return this.unlimited || size <= this.rates.smallfiles;
  }

  /** Read size for one chunk of a large file: about 1/16 s worth at the current rate. */
  chunkSize(): number {
    if (this.unlimited) return 1 << 20;
    const perChunk = (this.rates.byterate * this.speed) / 16;
    return Math.min(1 << 20, Math.max(4096, Math.floor(perChunk)));
  }

  /** Milliseconds to wait before reading `n` more bytes of a large file. */
  bytesWait(now: number, n: number): number {
    if (this.unlimited) return 0;
    return this.bytes.reserve(now, (n * 1000) / (this.rates.byterate * this.speed));
  }
}

/** Speed factor bookkeeping, persisted by the scanner in meta. */
export interface SpeedState {
  speed: number;
  /** Changes (new/changed/deleted, not baseline records) found in the current cycle. */
  cycleChanges: number;
  firstPassComplete: boolean;
}

export function speedOnChange(s: SpeedState, speedup: number): SpeedState {
  return { ...s, speed: speedup, cycleChanges: s.cycleChanges + 1 };
}

/** At the end of a cycle: back to 1 when the cycle was clean, else stay sped up. */
export function speedOnCycleEnd(s: SpeedState, speedup: number): SpeedState {
  const speed = s.cycleChanges === 0 ? 1 : Math.min(speedup, Math.max(1, s.speed));
  return { speed, cycleChanges: 0, firstPassComplete: true };
}

/** The speed to use at start-up or after a reload. */
export function effectiveSpeed(s: SpeedState, speedup: number): number {
  if (!s.firstPassComplete) return speedup;
  return Math.min(speedup, Math.max(1, s.speed));
}
