// Append-only event sinks: the JSON log, syslog, and (with --stdout) the
// daemon's standard output.
//
// Both read the queue in id order from a cursor kept in meta
// ('cursor.jsonlog', 'cursor.syslog' = the last event id written). The cursor
// advances only after the write succeeded, so a failure retries the same
// events and a crash between the write and the cursor update repeats them:
// delivery is at-least-once. (Consumers can deduplicate on host.name + event.id.)
// A missing cursor starts at the beginning of the queue: every event still in
// the database reaches a newly enabled sink.
//
// JSON log: one object per line (UTF-8, LF), in the event schema of ecs.ts
// (Elastic Common Schema names, ours under integrityd.*; the JSON Schema is
// etc/integrityd-event.schema.json, printed by --print-schema). Schema version
// 1 replaced the flat objects of earlier versions ({"time", "id", "host",
// "channel", "kind", "urgent", "subject", "section", "text", "details"}); a
// line of the new form carries integrityd.schema_version, an old one does not.
// The file is opened O_WRONLY|O_APPEND|O_CREAT|O_NOFOLLOW|O_NONBLOCK, mode
// 0600 when created (an existing file keeps its mode). Anything but a regular
// file is refused (a FIFO would block, a symlink could be planted). Rotation:
// when the path no longer names the open file, it is reopened. A line torn by
// a failed write (disk full) is terminated before the next one.
//
// Syslog: one line per event to /dev/log. Bun and Node have no unix datagram
// socket, so the line goes through util-linux `logger`, spawned with an
// argument vector (no shell): `logger --socket-errors=on -u /dev/log
// -t integrityd --id=PID -p FACILITY.LEVEL -S 8192 -e`, the lines on stdin. The
// lines are made safe before: every control character is escaped, the lines
// of a multi-line text are joined with " | ", at most 4,000 characters, so
// one event is exactly one syslog message and no text can forge another one
// (logger's --prio-prefix is not used, so a leading "<N>" is plain text).
// Level: alert for urgent events, err for kind error, notice otherwise.
// logger exits non-zero when the socket cannot be written (--socket-errors=on):
// the cursor then stays and the events are retried.
//
// RFC 5424 (syslogformat = rfc5424): one datagram per event to the socket,
// sent by unixgram.ts (no logger: its structured data is one set per run),
// formed by rfc5424.ts (the event schema as structured data, MSG the line
// above). The cursor advances to the last datagram sent, so a full or absent
// socket retries from the first one not sent.
//
// Standard output (--stdout, for `make run` and debugging): each event's text
// once, in queue order, from the events queued after the daemon started. Its
// cursor lives in memory only (`durable` false), so it never holds back the
// retention of the queue.
import type { Database } from "bun:sqlite";
import { closeSync, constants, fstatSync, openSync, readSync, statSync, writeSync } from "node:fs";
import { getMeta, setMeta } from "../db/db.ts";
import { type EventRow, eventsAfter, lastEventId } from "../db/events.ts";
import { sleepMs, yieldToLoop } from "../util/loop.ts";
import { safeLines } from "../util/escape.ts";
import { ecsEvent, eventLevel } from "./ecs.ts";
import { rfc5424Message } from "./rfc5424.ts";
import { unixDgram } from "./unixgram.ts";

export interface Sink {
  readonly name: "jsonlog" | "syslog" | "stdout";
  /** true when the cursor is kept in meta (and so holds events back from retention) */
  readonly durable: boolean;
  /** Write every event after the cursor; resolves with the number written, throws on failure (the cursor stays). */
  drain(db: Database): Promise<number>;
  close(): void;
}

export const BATCH = 500;

export function cursorKey(name: string): string {
  return `cursor.${name}`;
}

export function getCursor(db: Database, name: string): number {
  const v = Number(getMeta(db, cursorKey(name)) ?? 0);
  return Number.isFinite(v) && v > 0 ? v : 0;
}

/** One event as one line of the JSON log (no newline). */
export function jsonLine(e: EventRow, host: string): string {
  return JSON.stringify(ecsEvent(e, host));
}

/** Drive a sink: batches after the cursor, yielding between them. */
async function drainWith(db: Database, name: string, write: (rows: EventRow[]) => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const cursor = getCursor(db, name);
    const rows = eventsAfter(db, cursor, BATCH);
    if (rows.length === 0) return total;
    // write() advances the cursor itself as far as it got, then throws on failure
    total += await write(rows);
    if (rows.length < BATCH) return total;
    await yieldToLoop();
  }
}

const JSONLOG_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export function jsonlogSink(path: string, host: string): Sink {
  let fd: number | null = null;
  let needNewline = false;

  const close = () => {
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        // already gone
      }
      fd = null;
    }
  };

  const open = () => {
    // reopen when the path names another file (rotation) or nothing
    if (fd !== null) {
      try {
        const a = fstatSync(fd);
        const b = statSync(path);
        if (a.dev === b.dev && a.ino === b.ino) return fd;
      } catch {
        // path gone: reopen creates it
      }
      close();
    }
    const f = openSync(path, JSONLOG_FLAGS, 0o600);
    try {
      const st = fstatSync(f);
      if (!st.isFile()) throw new Error(`${path}: not a regular file`);
      needNewline = false;
      if (st.size > 0) {
        const r = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
        try {
          const b = Buffer.alloc(1);
          if (readSync(r, b, 0, 1, st.size - 1) === 1 && b[0] !== 0x0a) needNewline = true;
        } finally {
          closeSync(r);
        }
      }
    } catch (e) {
      closeSync(f);
      throw e;
    }
    fd = f;
    return f;
  };

  return {
    name: "jsonlog",
    durable: true,
    drain(db) {
      return drainWith(db, "jsonlog", async (rows) => {
        let body = "";
        for (const r of rows) body += `${jsonLine(r, host)}\n`;
        try {
          const f = open();
          writeAll(f, Buffer.from(needNewline ? `\n${body}` : body, "utf8"));
          needNewline = false;
        } catch (e) {
          close(); // the next attempt reopens and terminates a torn line
          throw new Error(`jsonlog ${path}: ${(e as Error).message}`);
        }
        setMeta(db, cursorKey("jsonlog"), rows[rows.length - 1].id);
        return rows.length;
      });
    },
    close,
  };
}

function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) {
    const n = writeSync(fd, buf, off, buf.length - off);
    if (n <= 0) throw new Error("short write");
    off += n;
  }
}

export const SYSLOG_MAX = 4000;
const LOGGER_CANDIDATES = ["/usr/bin/logger", "/bin/logger"];
const LOGGER_TIMEOUT = 10_000;

export const syslogLevel = eventLevel;

/** One event as one printable syslog line, no control characters, bounded. */
export function syslogLine(e: EventRow): string {
  const one = (s: string) => safeLines(s).join(" | ");
  let line = `[${one(e.channel)}/${one(e.kind)}] ${one(e.subject)}: ${one(e.text)}`;
  if (line.length > SYSLOG_MAX) line = `${line.slice(0, SYSLOG_MAX)}...`;
  return line;
}

export interface SyslogOptions {
  facility: string;
  /** unix socket, default /dev/log */
  socket?: string;
  /** text (a line through logger, the default) or rfc5424 (rfc5424.ts, one datagram per event) */
  format?: "text" | "rfc5424";
  /** this host's name, for rfc5424's HOSTNAME and host.name */
  host?: string;
  /** logger program, default /usr/bin/logger or /bin/logger */
  logger?: string;
  tag?: string;
}

/** Hand lines of one level to syslog through `logger`; throws when logger fails. */
export async function loggerSend(opts: SyslogOptions, level: string, lines: string[]): Promise<void> {
  const socket = opts.socket ?? "/dev/log";
  const tag = opts.tag ?? "integrityd";
  const loggerPath = () => {
    if (opts.logger) return opts.logger;
    for (const p of LOGGER_CANDIDATES) {
      try {
        if (statSync(p).isFile()) return p;
      } catch {
        // next
      }
    }
    throw new Error("syslog: the logger program (util-linux) was not found in /usr/bin or /bin");
  };
  const argv = [loggerPath(), "--socket-errors=on", "-u", socket, "-t", tag, `--id=${process.pid}`, "-p", `${opts.facility}.${level}`, "-S", "8192", "-e"];
  const proc = Bun.spawn(argv, { stdin: "pipe", stdout: "ignore", stderr: "pipe", env: { PATH: "/usr/bin:/bin", LC_ALL: "C" } });
  const timer = setTimeout(() => proc.kill(), LOGGER_TIMEOUT);
  try {
    proc.stdin.write(`${lines.join("\n")}\n`);
    await proc.stdin.end();
  } catch {
    // an early exit shows in the status below
  }
  const code = await proc.exited;
  clearTimeout(timer);
  if (code !== 0) {
    const err = (await new Response(proc.stderr).text().catch(() => "")).replace(/[\u0000-\u001f\u007f]+/g, " ").trim().slice(0, 300);
    throw new Error(`syslog ${socket}: logger exited with ${code}${err ? `: ${err}` : ""}`);
  }
}

/** How long a full socket may make no progress before the send fails (the cursor stays). */
const FULL_SOCKET_MS = 5000;

/**
 * Send events as RFC 5424 datagrams, in order; `sent` is told each id once its
 * datagram is out. A full socket queue (EAGAIN: a burst outruns the reader) is
 * waited for without blocking the loop; no progress for FULL_SOCKET_MS, or any
 * other failure, throws.
 */
export async function rfc5424Send(opts: SyslogOptions, rows: readonly EventRow[], sent: (id: number) => void = () => {}): Promise<void> {
  const socket = opts.socket ?? "/dev/log";
  const to = unixDgram(socket);
  try {
    for (const r of rows) {
      const msg = Buffer.from(rfc5424Message(r, { host: opts.host ?? "-", facility: opts.facility, procid: process.pid, line: syslogLine(r) }), "utf8");
      const since = Date.now();
      for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
        try {
          to.send(msg);
          break;
        } catch (e) {
          const code = (e as { code?: string }).code;
          if ((code === "EAGAIN" || code === "EWOULDBLOCK") && Date.now() - since < FULL_SOCKET_MS) {
            await sleepMs(wait);
            continue;
          }
          throw new Error(`syslog ${socket}: ${code === "EAGAIN" || code === "EWOULDBLOCK" ? `the socket stayed full for ${FULL_SOCKET_MS / 1000} s` : (code ?? (e as Error).message)}`);
        }
      }
      sent(r.id);
    }
  } finally {
    to.close();
  }
}

export function syslogSink(opts: SyslogOptions): Sink {
  if (opts.format === "rfc5424") {
    return {
      name: "syslog",
      durable: true,
      drain(db) {
        return drainWith(db, "syslog", async (rows) => {
          let last = 0;
          try {
            await rfc5424Send(opts, rows, (id) => (last = id));
          } finally {
            if (last > 0) setMeta(db, cursorKey("syslog"), last);
          }
          return rows.length;
        });
      },
      close() {},
    };
  }
  const send = (level: string, lines: string[]) => loggerSend(opts, level, lines);

  return {
    name: "syslog",
    durable: true,
    drain(db) {
      return drainWith(db, "syslog", async (rows) => {
        // consecutive events of one level go to one logger run
        let i = 0;
        while (i < rows.length) {
          const level = syslogLevel(rows[i]);
          let j = i;
          while (j < rows.length && syslogLevel(rows[j]) === level) j++;
          await send(level, rows.slice(i, j).map(syslogLine));
          setMeta(db, cursorKey("syslog"), rows[j - 1].id);
          i = j;
        }
        return rows.length;
      });
    },
    close() {},
  };
}

/** Every event queued from now on, its text on a line of `write` (standard output by default). */
export function stdoutSink(db: Database, write: (s: string) => void = (s) => void process.stdout.write(s)): Sink {
  let cursor = lastEventId(db);
  return {
    name: "stdout",
    durable: false,
    async drain(d: Database) {
      let total = 0;
      for (;;) {
        const rows = eventsAfter(d, cursor, BATCH);
        if (rows.length === 0) return total;
        write(rows.map((r) => `${r.text}\n`).join(""));
        cursor = rows[rows.length - 1].id;
        total += rows.length;
        if (rows.length < BATCH) return total;
        await yieldToLoop();
      }
    },
    close() {},
  };
}
