// One journal entry → its events (no I/O): the rsyslog line (render.ts) is
// classified by the source's logcheck rules like a `log` line; its origin
// (trust.ts) is carried along; a spoofed line is one cracking-level alert
// whatever the rules say.
//
// Events: channel "log"; subject "journal SOURCE"; text = the escaped line
// (a cut MESSAGE ends with CUT_MARKER) followed by its origin:
// " [origin: _UID=0 _PID=… _COMM=… _EXE=… _SYSTEMD_UNIT=…]" (trusted) or
// " [origin unverified: …]". details = {log: subject, section,
// journal: {source, cursor, uid, gid, pid, comm, exe, unit, identifier,
// trusted}}; a spoofed line: kind alert, section "Security Alerts", urgent,
// details.spoofed = true, details.spoof_reason, details.rules = the sections
// the rules gave (none: []); its text ends with " [integrityd: spoofed: REASON]".
import { ALERTS, type Classifier, stripTrailing } from "../../rules/layers.ts";
import { escapeLatin1, escapeString } from "../../util/escape.ts";
import { reportText } from "../lines.ts";
import type { LogEvent } from "../store.ts";
import type { JournalEntry } from "./export.ts";
import { identifierOf, renderLine } from "./render.ts";
import { DAEMONS, type Origin, originOf, plainlyGenuine, spoofReason } from "./trust.ts";

export interface EntryContext {
  /** the source's canonical text (config) */
  source: string;
  classifier: Classifier;
  /** the source's `_` fields may be trusted (trust.ts) */
  sourceTrusted: boolean;
  /** this machine's id for the local journal's _MACHINE_ID check; null: no check */
  machineId: string | null;
  /** host name for entries without _HOSTNAME */
  localHost: string;
}


function originText(o: Origin, sourceTrusted: boolean): string {
  if (!o.trusted) return sourceTrusted ? " [origin unverified: no _TRANSPORT or another machine's entry]" : " [origin unverified: journal not written by the local journald]";
  const parts: string[] = [];
  if (o.uid !== null) parts.push(`_UID=${o.uid}`);
  if (o.pid !== null) parts.push(`_PID=${o.pid}`);
  if (o.comm !== null) parts.push(`_COMM=${escapeLatin1(o.comm)}`);
  if (o.exe !== null) parts.push(`_EXE=${escapeLatin1(o.exe)}`);
  if (o.unit !== null) parts.push(`_SYSTEMD_UNIT=${escapeLatin1(o.unit)}`);
  return ` [origin: ${parts.join(" ")}]`;
}

const subjects = new Map<string, string>();
/** The escaped subject of a source's events (made once per source). */
function subjectOf(source: string): string {
  let s = subjects.get(source);
  if (s === undefined) {
    if (subjects.size > 1000) subjects.clear();
    subjects.set(source, (s = escapeString(`journal ${source}`)));
  }
  return s;
}

const clean = (s: string | null) => (s === null ? null : escapeLatin1(s));

/**
 * The events of entry `e`: none for a line the rules ignore, unless it is
 * spoofed. (Fields are decoded only as needed: most entries are ignored.)
 */
export function entryEvents(e: JournalEntry, ctx: EntryContext): LogEvent[] {
  const id = identifierOf(e);
  const line = stripTrailing(renderLine(e, ctx.localHost, id));
  const places = ctx.classifier.classify(line);
  // a daemon's entry is judged in full unless it is plainly its own (or its fields prove nothing)
  const judge = id !== undefined && Object.hasOwn(DAEMONS, id) && ctx.sourceTrusted && !plainlyGenuine(e, id);
  if (places.length === 0 && !judge) return [];
  const o = originOf(e, ctx.sourceTrusted, ctx.machineId);
  const reason = judge ? spoofReason(o) : null;
  if (places.length === 0 && reason === null) return [];
  const cursor = e.text("__CURSOR") ?? "";
  const subject = subjectOf(ctx.source);
  const text = reportText(line, e.cut.includes("MESSAGE")) + originText(o, ctx.sourceTrusted);
  const journal = {
    source: ctx.source, cursor, uid: o.uid, gid: o.gid, pid: o.pid, comm: clean(o.comm), exe: clean(o.exe),
    unit: clean(o.unit), identifier: clean(o.identifier), trusted: o.trusted,
  };
  if (reason !== null) {
    return [{
      kind: "alert", section: ALERTS, subject, text: `${text} [integrityd: spoofed: ${escapeLatin1(reason)}]`, urgent: true,
      details: { log: `journal ${ctx.source}`, section: ALERTS, journal, spoofed: true, spoof_reason: escapeLatin1(reason), rules: places.map((p) => p.section) },
    }];
  }
  return places.map((p) => ({
    kind: p.kind, section: p.section, subject, text, urgent: p.kind === "alert",
    details: { log: `journal ${ctx.source}`, section: p.section, journal },
  }));
}
