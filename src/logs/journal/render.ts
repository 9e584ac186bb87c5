// A journal entry as the line rsyslog writes to /var/log/syslog (its
// traditional file format), so that logcheck's rules match it unchanged:
//
//   Mon DD HH:MM:SS HOST TAG[PID]: MESSAGE
//
// - time: __REALTIME_TIMESTAMP (when journald received the entry; µs since
//   the epoch) in the local zone (TZ), day of month padded with a blank;
// - HOST: _HOSTNAME, else the host name given (the local host);
// - TAG: SYSLOG_IDENTIFIER, else _COMM, else "journal"; PID: SYSLOG_PID,
//   else _PID; without a PID the tag is "TAG:";
// - MESSAGE: its bytes as they are, except control characters, which are
//   (bytes below 0x20) written #ooo (octal) as rsyslog's
//   $EscapeControlCharactersOnReceive does (DEL and 8-bit bytes are kept)
//   (a multi-line message stays one line; a trailing newline is dropped);
//   one blank separates it from the tag unless it starts with one. HOST, TAG
//   and PID get the same #ooo escaping (a hostile identifier stays on its line).
// The line is a byte string (one char per byte, latin1), as the rules see a
// log line; invalid UTF-8 stays as it is.
import { type JournalEntry } from "./export.ts";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n: number) => (n < 10 ? `0${n}` : String(n));

let stampSecond = Number.NaN;
let stampText = "";

/** "Mon DD HH:MM:SS" of `ms` in the local zone (the last second is cached: bursts share it). */
export function syslogStamp(ms: number): string {
  const sec = Math.floor(ms / 1000);
  if (sec === stampSecond) return stampText;
  const d = new Date(sec * 1000);
  const day = d.getDate();
  stampText = `${MONTHS[d.getMonth()]} ${day < 10 ? ` ${day}` : day} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  stampSecond = sec;
  return stampText;
}

/** Microseconds since the epoch of the entry (__REALTIME_TIMESTAMP), or 0. */
export function realtimeUs(e: JournalEntry): number {
  return e.int("__REALTIME_TIMESTAMP") ?? 0;
}

/** The identifier of the entry's tag: SYSLOG_IDENTIFIER, else _COMM (latin1), or undefined. */
export function identifierOf(e: JournalEntry): string | undefined {
  return e.text("SYSLOG_IDENTIFIER") ?? e.text("_COMM");
}

/** Control characters as #ooo, a trailing newline dropped (latin1 in, latin1 out). */
export function controlText(s: string | undefined): string {
  if (s === undefined) return "";
  let end = s.length;
  if (end > 0 && s.charCodeAt(end - 1) === 10) end--;
  let i = 0;
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 32) break;
  }
  if (i === end) return end === s.length ? s : s.slice(0, end);
  let out = s.slice(0, i);
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    out += c < 32 ? `#${c.toString(8).padStart(3, "0")}` : s[i];
  }
  return out;
}

/** The entry's rsyslog line (latin1 byte string); `identifier`: identifierOf(e), when the caller has it. */
export function renderLine(e: JournalEntry, localHost: string, identifier = identifierOf(e)): string {
  const host = controlText(e.text("_HOSTNAME")) || localHost;
  const tag = controlText(identifier) || "journal";
  const pid = controlText(e.text("SYSLOG_PID") ?? e.text("_PID"));
  const msg = controlText(e.text("MESSAGE"));
  const head = `${syslogStamp(realtimeUs(e) / 1000)} ${host} ${pid ? `${tag}[${pid}]:` : `${tag}:`}`;
  return msg.charCodeAt(0) === 32 ? head + msg : `${head} ${msg}`;
}
