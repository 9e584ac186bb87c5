// The PID watcher's state machine, free of I/O: the stored state of one PID
// file plus what was observed now gives the new state and the events to report.
// Events are produced on a change of state only, so each is reported once.
//
// A process's identity is (host PID, start time in clock ticks since boot, boot
// id): the same PID with another start time is another process (restart or PID
// reuse), and after a reboot every process is new.

import { formatMillis } from "../util/duration.ts";

export type Status = "ok" | "zombie" | "died" | "missing" | "bad";

/** Why a PID file could not be used (a short, stable code). */
export type BadReason =
  | "unreadable" // open/read failed (permissions, I/O error)
  | "symlink" // the PID file is a symbolic link (never followed)
  | "notfile" // not a regular file (directory, FIFO, device, ...)
  | "toolarge" // more than MAX_PIDFILE_BYTES
  | "empty" // nothing but whitespace
  | "garbage" // not a decimal number
  | "negative" // a negative number
  | "range" // 0 or above the largest possible PID
  | "namespace"; // the PID cannot be mapped (pidct names no process, ...)

/** What the I/O layer saw of a live (or zombie) process. */
export interface ProcInfo {
  pid: number; // as in the PID file (namespace PID)
  hostpid: number; // in our own PID namespace
  start: number; // start time, clock ticks since boot (/proc/PID/stat field 22)
  started: number; // start time, ms since the epoch (for reports)
  boot: string; // boot id (/proc/sys/kernel/random/boot_id)
  name: string; // printable (escaped)
  state: string; // /proc/PID/stat state letter
}

export type Observation =
  | { kind: "missing" } // no PID file
  | { kind: "bad"; reason: BadReason; detail: string; pid?: number }
  | { kind: "gone"; pid: number } // the file names a PID without a process
  | { kind: "alive"; proc: ProcInfo }; // state Z means zombie

/**
 * The stored state of one PID file. pid..seen describe the last process seen
 * (alive or zombie) and are kept after it died, so a later restart or recovery
 * can name it; filepid is the PID the file held at the last check.
 */
export interface PidState {
  status: Status;
  filepid: number | null;
  pid: number | null;
  hostpid: number | null;
  start: number | null;
  started: number | null;
  boot: string | null;
  name: string | null;
  seen: number | null; // last time that process was seen
  reason: string; // status bad: the BadReason
  detail: string; // human-readable description of the current status
  since: number; // when status (or the process) last changed
  checked: number;
}

export type EventKind = "died" | "zombie" | "restarted" | "created" | "removed" | "recovered" | "error";

export interface PidEvent {
  kind: EventKind;
  text: string; // "<subject>: <kind>: ..."
  urgent: boolean;
  details: Record<string, unknown>;
}

export interface Outcome {
  next: PidState;
  events: PidEvent[];
}

export function statusOf(obs: Observation): Status {
  switch (obs.kind) {
    case "missing": return "missing";
    case "bad": return "bad";
    case "gone": return "died";
    case "alive": return obs.proc.state === "Z" ? "zombie" : "ok";
  }
}

/** Same process: same host PID, same start time, same boot. */
export function sameProcess(s: PidState, p: ProcInfo): boolean {
  return s.hostpid === p.hostpid && s.start === p.start && s.boot === p.boot;
}

export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

function procLabel(pid: number | null, name: string | null): string {
  return name ? `PID ${pid} (${name})` : `PID ${pid}`;
}

function lastLabel(s: PidState): string {
  return procLabel(s.pid, s.name);
}

function procDetails(p: ProcInfo): Record<string, unknown> {
  return { pid: p.pid, hostpid: p.hostpid, name: p.name, started: p.started, state: p.state };
}

function lastDetails(s: PidState): Record<string, unknown> | null {
  if (s.pid === null) return null;
  return { pid: s.pid, hostpid: s.hostpid, name: s.name, started: s.started, seen: s.seen };
}

function lived(s: PidState, who: string): string {
  if (s.started === null || s.seen === null) return "";
  return `; ${who} started ${formatTime(s.started)} and lived at least ${formatMillis(s.seen - s.started)}`;
}

/** A fresh state with no history (used before a file's first observation). */
export function emptyState(now: number): PidState {
  return {
    status: "missing", filepid: null, pid: null, hostpid: null, start: null, started: null, boot: null,
    name: null, seen: null, reason: "", detail: "", since: now, checked: now,
  };
}

function describe(obs: Observation): string {
  switch (obs.kind) {
    case "missing": return "no PID file";
    case "bad": return obs.detail;
    case "gone": return `no process with PID ${obs.pid}`;
    case "alive": {
      const p = obs.proc;
      const ns = p.hostpid !== p.pid ? `, host PID ${p.hostpid}` : "";
      return `${procLabel(p.pid, p.name)}${ns} ${p.state === "Z" ? "is a zombie" : "running"} since ${formatTime(p.started)}`;
    }
  }
}

/**
 * One step: `prev` is the stored state (null: never seen), `obs` what was
 * observed at `now`, `subject` the printable PID file path. With `baseline`
 * (first start, or a PID file spec newly configured) the state is recorded
 * without a report per process; only an unusable PID file is reported.
 */
export function step(subject: string, prev: PidState | null, obs: Observation, now: number, baseline: boolean): Outcome {
  const cur = statusOf(obs);
  const base = prev ?? emptyState(now);
  const next: PidState = {
    ...base,
    status: cur,
    filepid: obs.kind === "gone" ? obs.pid : obs.kind === "alive" ? obs.proc.pid : obs.kind === "bad" ? (obs.pid ?? null) : null,
    reason: obs.kind === "bad" ? obs.reason : "",
    detail: describe(obs),
    checked: now,
  };
  let changedProcess = false;
  if (obs.kind === "alive") {
    const p = obs.proc;
    changedProcess = !sameProcess(base, p);
    Object.assign(next, { pid: p.pid, hostpid: p.hostpid, start: p.start, started: p.started, boot: p.boot, name: p.name, seen: now });
  }
  if (prev === null || cur !== base.status || changedProcess || next.reason !== base.reason || next.filepid !== base.filepid) {
    next.since = now;
  }
  const events: PidEvent[] = [];
  const ev = (kind: EventKind, msg: string, details: Record<string, unknown>) =>
    events.push({ kind, text: `${subject}: ${kind}: ${msg}`, urgent: kind === "died", details: { pidfile: subject, ...details } });
  if (prev === null && baseline) {
    // no report per process; a PID file that cannot be used is a problem to fix now
    if (obs.kind === "bad") ev("error", obs.detail, { reason: obs.reason, previous: null });
    return { next, events };
  }
  const had = base.status;

  if (had === "missing" && cur !== "missing") {
    ev("created", `PID file appeared; ${describe(obs)}`, { status: cur, ...(obs.kind === "alive" ? { process: procDetails(obs.proc) } : {}) });
  }

  switch (obs.kind) {
    case "missing":
      if (had !== "missing") {
        const still = had === "ok" || had === "zombie" ? ` (last: ${lastLabel(base)})` : "";
        ev("removed", `PID file is gone${still}`, { previous: lastDetails(base), was: had });
      }
      break;
    case "bad":
      if (had !== "bad" || base.reason !== obs.reason) {
        ev("error", `${obs.detail}`, { reason: obs.reason, previous: lastDetails(base) });
      }
      break;
    case "gone":
      if (had !== "died" || base.filepid !== obs.pid) {
        const known = base.pid === obs.pid && base.pid !== null;
        const msg = known
          ? `${lastLabel(base)} is no longer running${lived(base, "it")}`
          : `the PID file names PID ${obs.pid}, no such process` + (base.pid !== null ? ` (last process: ${lastLabel(base)})` : "");
        ev("died", msg, { pid: obs.pid, previous: lastDetails(base) });
      }
      break;
    case "alive": {
      const p = obs.proc;
      const known = base.pid !== null;
      if (cur === "zombie") {
        if (had !== "zombie" || changedProcess) {
          const was = known && changedProcess ? ` (previous process: ${lastLabel(base)})` : "";
          ev("zombie", `${procLabel(p.pid, p.name)} is a zombie (exited, not reaped by its parent)${was}`, {
            process: procDetails(p), previous: known && changedProcess ? lastDetails(base) : null,
          });
        }
      } else if (had === "ok") {
        if (changedProcess) {
          const reuse = p.pid === base.pid ? " (same PID, another start time: PID reused)" : "";
          ev("restarted", `${lastLabel(base)} was replaced by ${procLabel(p.pid, p.name)}, started ${formatTime(p.started)}${reuse}${lived(base, "the old one")}`, {
            process: procDetails(p), previous: lastDetails(base),
          });
        }
      } else if (had === "died" || had === "zombie" || had === "bad") {
        const what = had === "bad" ? "the PID file is valid again" : had === "died" ? "it had died" : "it had been a zombie";
        const newer = known && changedProcess ? `, a new process (previous: ${lastLabel(base)})` : "";
        ev("recovered", `${procLabel(p.pid, p.name)} running${newer}; ${what}`, {
          process: procDetails(p), previous: lastDetails(base), was: had,
        });
      }
      break;
    }
  }
  return { next, events };
}
