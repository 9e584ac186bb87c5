// A cycle running behind, said once: the daemon's scan task calls
// checkBehind() now and then (about once a minute); when the cycle under way
// has run more than BEHIND_FACTOR times its expected time at the current
// rates (staleness.ts), one `coverage` report says so, and the cycle's number
// is kept in meta (`staleness.behind_cycle`) so it is not said again, even
// across a restart. Reads meta keys of cycle.ts; the bytes the lane must read
// are summed once per cycle.
import type { Database } from "bun:sqlite";
import type { Config } from "../config/config.ts";
import { getMeta, setMeta } from "../db/db.ts";
import { enqueue } from "../db/events.ts";
import { formatSeconds } from "../util/duration.ts";
import { META } from "./cycle.ts";
import { expectedCycleMs, isBehind } from "./staleness.ts";

export const BEHIND_KEY = "staleness.behind_cycle";

export class BehindCheck {
  private bigBytes: { cycle: number; bytes: number; entries: number } | null = null;

  constructor(private readonly db: Database) {}

  /** Report once if the current cycle runs behind; returns whether it was reported now. */
  check(config: Config, speed: number, now: number): boolean {
    const cycle = Number(getMeta(this.db, META.cycle));
    const start = Number(getMeta(this.db, META.cycleStart));
    if (!(cycle > 0) || !(start > 0)) return false;
    if (Number(getMeta(this.db, BEHIND_KEY)) === cycle) return false;
    if (this.bigBytes?.cycle !== cycle) {
      const r = this.db.query("SELECT count(*) AS n, coalesce(sum(CASE WHEN type = 'file' AND size > ? THEN size ELSE 0 END), 0) AS big FROM entries").get(config.smallfiles) as { n: number; big: number };
      this.bigBytes = { cycle, bytes: Number(r.big), entries: r.n };
    }
    const expected = expectedCycleMs({ entries: this.bigBytes.entries, bigBytes: this.bigBytes.bytes, filerate: config.filerate, byterate: config.byterate, speed });
    const elapsed = now - start;
    if (!isBehind(elapsed, expected)) return false;
    const text = `Coverage: cycle ${cycle} runs behind: it began ${formatSeconds(elapsed / 1000)} ago and should take about ${formatSeconds(expected! / 1000)} at the current rates (${this.bigBytes.entries} entries at filerate ${config.filerate}, big files at byterate ${config.byterate}); files are re-verified less often than the rates promise`;
    this.db.transaction(() => {
      enqueue(this.db, { channel: "file", kind: "coverage", subject: "cycle", text, details: { cycle, elapsedMs: elapsed, expectedMs: expected } });
      setMeta(this.db, BEHIND_KEY, cycle);
    }).immediate();
    return true;
  }
}
