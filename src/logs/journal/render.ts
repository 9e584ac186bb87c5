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
//   written #ooo (octal) as rsyslog's $EscapeControlCharactersOnReceive does
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
  const v = e.fields.get("__REALTIME_TIMESTAMP");
  if (v === undefined) return 0;
  const n = Number(v.toString("latin1"));
  return Number.isFinite(n) ? n : 0;
}

/** The message with control characters as #ooo and a trailing newline dropped (latin1). */
export function messageText(msg: Buffer | undefined): string {
  if (msg === undefined) return "";
  let end = msg.length;
  if (end > 0 && msg[end - 1] === 10) end--;
  let plain = true;
  for (let i = 0; i < end; i++) {
    const c = msg[i];
    if (c < 32 || c === 127) {
      plain = false;
      break;
    }
  }
  const s = msg.toString("latin1", 0, end);
  if (plain) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c < 32 || c === 127 ? `#${c.toString(8).padStart(3, "0")}` : s[i];
  }
  return out;
}

/** The entry's rsyslog line (latin1 byte string). */
export function renderLine(e: JournalEntry, localHost: string): string {
  const f = e.fields;
  const host = messageText(f.get("_HOSTNAME")) || localHost;
  const tag = messageText(f.get("SYSLOG_IDENTIFIER") ?? f.get("_COMM")) || "journal";
  const pid = messageText(f.get("SYSLOG_PID") ?? f.get("_PID"));
  const msg = messageText(f.get("MESSAGE"));
  const head = `${syslogStamp(realtimeUs(e) / 1000)} ${host} ${pid ? `${tag}[${pid}]:` : `${tag}:`}`;
  return msg.charCodeAt(0) === 32 ? head + msg : `${head} ${msg}`;
}
