// The daemon's own news: a stop is reported (an intruder who stops the
// service must not silence it), and so is a start after an end that left no
// stop record (a crash, kill -9, a power cut). Pure texts here; daemon.ts
// queues them as urgent log events in the "Daemon Notices" section, and on
// stop flushes every output before exiting.
//
// The sender of a signal (its PID and program) is not told to integrityd: Bun
// hands the handler the signal's name only (no siginfo), so the stop notice
// names the signal and says so rather than guessing.
import { formatMillis } from "../util/duration.ts";

export const NOTICE_SECTION = "Daemon Notices";
export const META_STARTED = "daemon.started";
export const META_STOPPED = "daemon.stopped";

/** What the last run left in meta: when it started and when it recorded a clean stop. */
export interface LastRun {
  started?: number;
  stopped?: number;
}

/** The notice for a start after an unclean end, or null (first start, or the last run stopped cleanly). */
export function uncleanStartNotice(last: LastRun, now: number): string | null {
  if (last.started === undefined) return null;
  if (last.stopped !== undefined && last.stopped >= last.started) return null;
  const when = new Date(last.started).toISOString();
  return `integrityd starts after an unclean end: the run started ${when} (${formatMillis(now - last.started)} ago) left no stop record — it crashed, was killed (kill -9), or the host lost power. Events it found after its last commit may be reported again; none were lost.`;
}

/** The notice queued when the daemon stops. */
export function stopNotice(signal: string, startedAt: number, now: number): string {
  return `integrityd stopping: ${signal} received after ${formatMillis(now - startedAt)} of running (the sender of a signal is not known to integrityd). Nothing is watched until it starts again.`;
}
