// Who made a change: the process a fanotify event names, read from /proc at
// the time the event is read (the watcher worker reads at once, so a writer
// that exits right after its write is still usually there). Contract:
// readWriter(pid) never throws; what cannot be read (the process is gone, a
// kernel thread) is null. exe and comm are hostile bytes: kept as strings
// with every byte escaped that is not printable (util/escape.ts), so a
// process named like a report line stays one harmless field.
import { readFileSync, readlinkSync } from "node:fs";
import { escapeBytes } from "../../util/escape.ts";

/** details.writer of a file event (the agreed shape). */
export interface Writer {
  pid: number;
  exe: string | null;
  uid: number | null;
  comm: string | null;
}

export function readWriter(pid: number): Writer {
  const w: Writer = { pid, exe: null, uid: null, comm: null };
  if (!Number.isInteger(pid) || pid <= 0) return w;
  try {
    w.exe = escapeBytes(readlinkSync(`/proc/${pid}/exe`, { encoding: "buffer" }));
  } catch {
    // gone, or a kernel thread
  }
  try {
    const status = readFileSync(`/proc/${pid}/status`, "latin1");
    const m = /^Uid:\s+(\d+)/m.exec(status);
    if (m) w.uid = Number(m[1]);
  } catch {
    // gone
  }
  try {
    w.comm = escapeBytes(readFileSync(`/proc/${pid}/comm`).subarray(0, 64)).replace(/\\n$/, "");
  } catch {
    // gone
  }
  return w;
}

/** The report's line about the writer. */
export function writerText(w: Writer): string {
  const who = w.exe ?? (w.comm ? `(${w.comm})` : "an exited process");
  return `  written by ${who} (PID ${w.pid}${w.uid !== null ? `, UID ${w.uid}` : ""})`;
}
