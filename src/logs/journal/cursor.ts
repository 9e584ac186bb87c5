// Journal cursors and the continuity check on a restart (pure).
//
// A cursor (`s=SEQNUM_ID;i=SEQNUM;b=BOOT;m=MONO;t=REALTIME;x=XOR`, numbers in
// hex) names one entry: `s` the sequence the journal's writer numbers entries
// in (kept across file rotation), `i` the entry's number in it, `t` its
// receive time (µs since the epoch).
//
// A restart asks journalctl for the stored entry itself (--cursor, not
// --after-cursor) and judges the first entry that comes:
//  - the stored entry (same s, same i): continuity proven; it is dropped;
//  - an earlier entry of the same sequence: already handled, dropped (journalctl
//    seeks by time when it cannot find a cursor; nothing is handled twice);
//  - the next entry (same s, i + 1): nothing skipped (the stored entry is gone);
//  - anything else is a discontinuity, reported by `judgeResume` with what was
//    skipped: same sequence, later number (the journal was vacuumed or rotated
//    away past the cursor: entries i+1 .. j-1, or with match filters "up to"
//    that many), or another sequence (the journal was replaced or rewritten:
//    what was written between the two times).
// After the first entry kept, entries follow one another as journalctl gives
// them; no further check is made (a gap in the middle of a stream cannot be
// told from entries that did not match, or from another writer's file).
import { formatSeconds } from "../../util/duration.ts";

export interface Cursor {
  /** seqnum id (the sequence) */
  s: string;
  /** seqnum */
  i: number;
  /** realtime of the entry, µs since the epoch (0: not given) */
  t: number;
}

/** The parts of a cursor string, or null when it is not one. */
export function parseCursor(raw: string): Cursor | null {
  let s = "";
  let i = Number.NaN;
  let t = 0;
  for (const part of raw.split(";")) {
    const eq = part.indexOf("=");
    const k = part.slice(0, eq);
    const v = part.slice(eq + 1);
    if (k === "s") s = v;
    else if (k === "i") i = /^[0-9a-f]{1,13}$/.test(v) ? parseInt(v, 16) : Number.NaN;
    else if (k === "t") t = /^[0-9a-f]{1,14}$/.test(v) ? parseInt(v, 16) : 0;
  }
  if (!/^[0-9a-f]{32}$/.test(s) || !Number.isFinite(i)) return null;
  return { s, i, t };
}

export type Resume =
  | { kind: "anchor" } // the stored entry: drop it, continuity proven
  | { kind: "seen" } // handled before: drop it, keep judging
  | { kind: "continues" } // the next entry: keep it
  | { kind: "gap"; skipped: number | null; notice: string }; // keep it, report the discontinuity

function at(us: number): string {
  return us > 0 ? new Date(Math.floor(us / 1000)).toISOString() : "an unknown time";
}

/**
 * The first entry `first` after a restart from the stored cursor `stored`.
 * `filtered`: the source has match filters (entries between two kept ones
 * may simply not match).
 */
export function judgeResume(stored: Cursor, first: Cursor, filtered: boolean): Resume {
  if (first.s === stored.s) {
    if (first.i === stored.i) return { kind: "anchor" };
    if (first.i < stored.i) return { kind: "seen" };
    if (first.i === stored.i + 1) return { kind: "continues" };
    const n = first.i - stored.i - 1;
    const span = first.t > 0 && stored.t > 0 && first.t >= stored.t ? ` (${formatSeconds((first.t - stored.t) / 1e6)})` : "";
    return {
      kind: "gap",
      skipped: filtered ? null : n,
      notice: `journal discontinuity: the entry of the stored cursor is gone (vacuumed or rotated away); ${filtered ? `up to ${n} entries (those matching)` : `${n} entries`} written between ${at(stored.t)} and ${at(first.t)}${span} were skipped (sequence ${stored.s} numbers ${(stored.i + 1).toString(16)}..${(first.i - 1).toString(16)})`,
    };
  }
  return {
    kind: "gap",
    skipped: null,
    notice: `journal discontinuity: the journal was replaced or rewritten (sequence ${stored.s} is gone, now ${first.s}); entries written after ${at(stored.t)} and before ${at(first.t)} may have been skipped`,
  };
}
