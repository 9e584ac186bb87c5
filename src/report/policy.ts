// The mail policy: when to send a report and which pending events go in.
// Pure code: no I/O, no clock. The reporter feeds it a summary of the queue
// and the time, and it answers "send now (these groups)" or "wake me at T".
//
// Groups. File events form the "file" group (reporttime / reportholdoff);
// log and pid events form the "log" group (logreporttime / logreportholdoff),
// except violations (logcheck's Security Events: failed logins, sudo
// failures), which form the "violation" group with the same times but a
// hold-off of their own: the first violation after a quiet spell goes out
// after `logreporttime`, whatever other log mail went out just before.
// Urgent events (cracking alerts, process deaths; any row with urgent = 1,
// whatever its channel) form the "urgent" group.
//
// Rules (times in milliseconds, config values in seconds):
// - Pooling: a group's pending events wait `pool` after the oldest of them,
//   so a burst goes out in one mail.
// - Hold-off: at least `holdoff` between two mails that carried non-urgent
//   events of the same group.
//   A group is DUE at max(oldest pending + pool, last mail of the group + holdoff).
// - Urgent events skip pooling and hold-off, but at most one mail with urgent
//   events goes out per URGENT_INTERVAL (60 s); urgent events that arrive
//   within that minute go into the next mail, whatever triggers it.
//   The urgent group is DUE at last urgent mail + URGENT_INTERVAL (or at once).
// - Ride-along: when a mail goes out (some group is due), every pending urgent
//   event goes in, and every other group whose pooling window has elapsed goes
//   in too, even if its hold-off has not: the mail is sent anyway, so this adds
//   no mail, and it brings the news earlier. So does a group whose pooling
//   window ends within RIDE_ALONG_SLACK (the daemon's start notice and the
//   baseline, queued a moment apart, go in one mail, not two 0.1 s apart). A
//   group still well inside its pooling window stays out (its burst is not
//   split). A group that rode along counts as mailed for its own hold-off.
// - Retry: after a failed delivery nothing is sent before the backoff has
//   passed (RETRY_FIRST doubling per consecutive failure, capped at RETRY_MAX),
//   urgent events included: a dead server must not be hammered.
// - Clock: times in the future (the clock went back) are clamped to `now`, so a
//   clock jump can delay a mail by at most one pooling/hold-off period.

export type Group = "file" | "log" | "violation" | "urgent";

export interface PendingGroup {
  count: number;
  /** time of the oldest pending event of the group (ms) */
  first: number;
}

export interface PolicyConfig {
  reporttime: number; // seconds
  reportholdoff: number;
  logreporttime: number;
  logreportholdoff: number;
}

export interface PolicyInput {
  now: number;
  pending: Partial<Record<Group, PendingGroup>>;
  /** time of the last accepted mail that carried events of the group */
  lastMail: Partial<Record<Group, number>>;
  /** consecutive failed deliveries since the last success, and the time of the last one */
  failures: { count: number; last?: number };
  config: PolicyConfig;
  /** first retry delay (ms), default RETRY_FIRST; tests shorten it */
  retryFirst?: number;
}

export type Decision =
  | { action: "idle" }
  | { action: "wait"; at: number; reason: string }
  | { action: "send"; groups: Group[]; reason: string };

export const URGENT_INTERVAL = 60_000;
export const RIDE_ALONG_SLACK = 2_000;
export const RETRY_FIRST = 30_000;
export const RETRY_MAX = 30 * 60_000;

/** Delay before the next attempt after `failures` consecutive failed deliveries. */
export function retryDelay(failures: number, first = RETRY_FIRST): number {
  if (failures <= 0) return 0;
  const exp = Math.min(failures - 1, 30);
  return Math.min(first * 2 ** exp, RETRY_MAX);
}

const GROUPS: Group[] = ["urgent", "violation", "file", "log"];

function windows(g: Exclude<Group, "urgent">, c: PolicyConfig): { pool: number; holdoff: number } {
  const sec = (v: number) => (Number.isFinite(v) && v > 0 ? v * 1000 : 0);
  return g === "file"
    ? { pool: sec(c.reporttime), holdoff: sec(c.reportholdoff) }
    : { pool: sec(c.logreporttime), holdoff: sec(c.logreportholdoff) }; // log and violation
}

export function decide(input: PolicyInput): Decision {
  const { now, pending, lastMail, failures, config } = input;
  const clamp = (t: number) => Math.min(t, now);
  const has = (g: Group) => (pending[g]?.count ?? 0) > 0;
  if (!GROUPS.some(has)) return { action: "idle" };

  const due: Partial<Record<Group, number>> = {};
  const poolEnd: Partial<Record<Group, number>> = {};
  for (const g of GROUPS) {
    if (!has(g)) continue;
    const last = lastMail[g];
    if (g === "urgent") {
      due[g] = last === undefined ? -Infinity : clamp(last) + URGENT_INTERVAL;
      poolEnd[g] = -Infinity;
    } else {
      const w = windows(g, config);
      poolEnd[g] = clamp(pending[g]!.first) + w.pool;
      const holdEnd = last === undefined ? -Infinity : clamp(last) + w.holdoff;
      due[g] = Math.max(poolEnd[g]!, holdEnd);
    }
  }
  const earliest = Math.min(...Object.values(due));
  const retryAt = failures.count > 0 && failures.last !== undefined ? clamp(failures.last) + retryDelay(failures.count, input.retryFirst) : -Infinity;

  if (retryAt > now) {
    return { action: "wait", at: Math.max(retryAt, earliest), reason: `retry backoff after ${failures.count} failed deliveries` };
  }
  if (earliest > now) {
    const which = GROUPS.filter((g) => due[g] === earliest);
    return { action: "wait", at: earliest, reason: `${which.join("+")} due` };
  }
  const trigger = GROUPS.filter((g) => due[g] !== undefined && due[g]! <= now);
  const groups = GROUPS.filter((g) => has(g) && (due[g]! <= now || poolEnd[g]! <= now + RIDE_ALONG_SLACK));
  return { action: "send", groups, reason: `${trigger.join("+")} due` };
}
