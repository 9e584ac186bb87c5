// One event as one RFC 5424 syslog message, the event schema (ecs.ts) as its
// structured data. Pure: no clock, no I/O.
//
//   <PRI>1 TIMESTAMP HOSTNAME integrityd PROCID MSGID [integrityd@32473 NAME="VALUE" ...] MSG
//
// PRI: facility × 8 + the event's level (alert 1, err 3, notice 5). TIMESTAMP:
// when the event was queued (UTC, ms). MSGID: the event's kind. The SD-ID
// carries 32473, the private enterprise number RFC 5612 sets aside for
// documentation: integrityd has no number of its own, and the ID only has to
// be unique among the SD elements a receiver sees. The SD parameters are the
// schema's fields flattened to their dotted names (event.id, file.path,
// integrityd.schema_version, ...; an array gives one parameter per item),
// but for message (it is MSG) and integrityd.details (the JSON log keeps it).
// Values are escaped as RFC 5424 says (\" \\ \]); every text is already
// printable (ecs.ts). MSG is the same single line as the text format
// (sinks.ts syslogLine), without a BOM.
// Bounds: one message is at most MAX_5424 bytes (rsyslog's default message
// size is 8 KiB): a parameter value above MAX_VALUE bytes is cut (a base64
// one is left out instead: a cut one would decode to wrong bytes), then MSG
// is cut to fit, then, in the worst case, parameters are left out from the
// last, the event's identity (event.id, event.action, integrityd.schema_version)
// coming first.
import type { EventRow } from "../db/events.ts";
import { ecsEvent, eventLevel, printable } from "./ecs.ts";

export const SD_ID = "integrityd@32473";
export const MAX_5424 = 8000;
const MAX_VALUE = 1024;

const FACILITY: Record<string, number> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, security: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9,
  authpriv: 10, local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};
const SEVERITY = { alert: 1, err: 3, notice: 5 } as const;

/** First in the SD: what identifies the event, so it survives any cut. */
const FIRST = ["integrityd.schema_version", "event.id", "event.action", "event.kind", "host.name"];
const LEFT_OUT = new Set(["message", "integrityd.details", "@timestamp"]);

/** PRINTUSASCII but SP, with a nil value "-" for nothing; at most `max` characters. */
function headerField(s: string, max: number): string {
  const t = s.replace(/[^\x21-\x7e]/g, "_").slice(0, max);
  return t === "" ? "-" : t;
}

/** RFC 5424's PARAM-VALUE escapes; control characters (none should reach here: ecs.ts) as \xNN, so a message stays one line. */
const escapeValue = (v: string) => printable(v).replace(/[\\"\]]/g, (c) => `\\${c}`);

function cutUtf8(s: string, maxBytes: number): string {
  const b = Buffer.from(s, "utf8");
  if (b.length <= maxBytes) return s;
  let end = maxBytes;
  while (end > 0 && (b[end] & 0xc0) === 0x80) end--; // never split a character
  return `${b.subarray(0, end).toString("utf8")}...`;
}

/** The schema document as [dotted name, value] pairs, arrays as repeated names. */
export function flatten(doc: Record<string, unknown>, prefix = "", out: [string, string][] = []): [string, string][] {
  for (const [k, v] of Object.entries(doc)) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (LEFT_OUT.has(name)) continue;
    if (Array.isArray(v)) for (const x of v) out.push([name, String(x)]);
    else if (v !== null && typeof v === "object") flatten(v as Record<string, unknown>, name, out);
    else out.push([name, String(v)]);
  }
  return out;
}

export interface Rfc5424Options {
  host: string;
  facility: string;
  procid: number;
  /** the one-line MSG (sinks.ts syslogLine) */
  line: string;
}

/** The whole message (no trailing newline), at most MAX_5424 bytes of UTF-8. */
export function rfc5424Message(e: EventRow, o: Rfc5424Options): string {
  const level = eventLevel(e);
  const pri = (FACILITY[o.facility] ?? FACILITY.authpriv) * 8 + SEVERITY[level];
  const t = new Date(e.time);
  const stamp = Number.isNaN(t.getTime()) ? "-" : t.toISOString();
  const header = `<${pri}>1 ${stamp} ${headerField(o.host, 255)} integrityd ${o.procid} ${headerField(e.kind, 32)} `;
  const rank = (n: string) => (FIRST.includes(n) ? FIRST.indexOf(n) : FIRST.length);
  const params = flatten(ecsEvent(e, o.host))
    .map(([n, v], i) => ({ n, v, i }))
    .sort((a, b) => rank(a.n) - rank(b.n) || a.i - b.i)
    .flatMap(({ n, v }) => {
      if (Buffer.byteLength(v) <= MAX_VALUE) return [` ${n}="${escapeValue(v)}"`];
      return n.endsWith("_base64") ? [] : [` ${n}="${escapeValue(cutUtf8(v, MAX_VALUE))}"`];
    });
  const bytes = (s: string) => Buffer.byteLength(s, "utf8");
  let sd = `[${SD_ID}${params.join("")}]`;
  while (bytes(header) + bytes(sd) + 1 > MAX_5424 && params.length > FIRST.length) {
    params.pop();
    sd = `[${SD_ID}${params.join("")}]`;
  }
  const room = MAX_5424 - bytes(header) - bytes(sd) - 1;
  return `${header}${sd} ${cutUtf8(o.line, Math.max(0, room - 3))}`;
}
