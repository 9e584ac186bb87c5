// The report mail: a subject of fixed shape and a plain-text body.
//
// Subject: severity first (SECURITY ALERT for cracking lines, Security events
// for violations, Process alert for deaths, else integrityd), then the
// counts that are not zero, then the host (formatSubject). It never holds
// event text, and HOST is reduced to [A-Za-z0-9.-_], so no header injection
// is possible whatever the events contain.
//
// Body, in a stable order:
//   header line (host, date, counts), a note when a flood is summarised
//   1. Log events (channel log): logcheck-style sections in the order
//      Security Alerts (and "Security Alerts for X"), Security Events (and
//      "... for X"), System Events, then any other section title (e.g. Log
//      Monitoring Notices); ties in order of first appearance; each title with
//      its count and an `=-=-` underline; inside a section, grouped by log file (files in order
//      of first appearance), lines in log order (queue order).
//   2. Process events (channel pid): one section, chronological.
//   3. File events (channel file): urgent ones first (package mismatches), then
//      sections by kind (changed, new, deleted, error, baseline, package, then
//      other kinds in order of appearance), chronological.
//   footer: host, version, scan coverage.
// Event texts are already escaped by the producers; every body line is
// defended again here: CR and other control characters (but TAB) become \xNN,
// so no bare CR can reach the message. Lone "." lines and very long lines are
// kept as they are (nodemailer dot-stuffs and picks a transfer encoding).
// At most `lineLimit` (5,000) event lines go in; the rest are counted in a note
// (those events are marked as mailed; their full text stays in the database
// and the JSON log).

import { formatSeconds } from "../util/duration.ts";
import { safeLines } from "../util/escape.ts";
import { sectionUnderline } from "../util/heading.ts";

export interface ReportEvent {
  id: number;
  time: number;
  channel: "file" | "log" | "pid";
  kind: string;
  urgent: number | boolean;
  subject: string;
  section: string;
  text: string;
  /** flood summary: events of the same report group not shown just before this one */
  skippedBefore?: number;
}

/** How many events an event line stands for (itself and those left out before it). */
const weight = (e: ReportEvent) => 1 + (e.skippedBefore ?? 0);
const total = (es: readonly ReportEvent[]) => es.reduce((n, e) => n + weight(e), 0);

export interface Coverage {
  /** share of entries checked in the current/last cycle, 0..1 */
  coverage?: number;
  oldestCheckAgeSec?: number;
  speed?: number;
  /** entries tracked, and how long a full cycle takes at the current rates */
  entries?: number;
  cycleSeconds?: number;
  /** events still waiting after this mail (other groups, not yet due) */
  waiting?: number;
  /** change hints' coverage, one line (scan/hints/status.ts) */
  hints?: string;
}

export interface FormatInput {
  host: string;
  version: string;
  now: number;
  events: ReportEvent[];
  coverage?: Coverage;
  lineLimit?: number;
}

export interface FormattedReport {
  subject: string;
  text: string;
  /** event lines left out because of the line limit */
  omitted: number;
}

export const LINE_LIMIT = 5000;
/**
 * Every event line is indented, titles and headings are not: a log line that
 * reads like a section title ("Security Alerts (1)") cannot pass for one.
 */
const INDENT = "  ";

const LOG_SECTIONS = ["Security Alerts", "Security Events", "System Events"];
const FILE_KINDS: [string, string][] = [
  ["changed", "Changed Files"],
  ["new", "New Files"],
  ["deleted", "Deleted Files"],
  ["error", "File Errors"],
  ["baseline", "Baseline"],
  ["package", "Package Changes"],
];

/** A host name safe for a header and an address: [A-Za-z0-9.-_], at most 64 chars. */
export function safeHost(host: string): string {
  const h = host.replace(/[^A-Za-z0-9._-]/g, "").slice(0, 64);
  return h === "" ? "localhost" : h;
}


/** What a mail holds, counted for its subject (a count never carries event text). */
export interface SubjectCounts {
  alerts: number; // cracking lines (logcheck's Security Alerts)
  violations: number; // logcheck's Security Events
  deaths: number; // processes that died
  changed: number;
  new: number;
  deleted: number;
  otherFile: number; // file errors, baseline, ...
  otherLog: number; // System Events, notices
  otherPid: number; // zombies, restarts, ...
}

export function subjectCounts(events: readonly ReportEvent[]): SubjectCounts {
  const c: SubjectCounts = { alerts: 0, violations: 0, deaths: 0, changed: 0, new: 0, deleted: 0, otherFile: 0, otherLog: 0, otherPid: 0 };
  for (const e of events) {
    const w = weight(e);
    if (e.channel === "log") {
      if (e.kind === "alert") c.alerts += w;
      else if (e.kind === "violation") c.violations += w;
      else c.otherLog += w;
    } else if (e.channel === "pid") {
      if (e.kind === "died") c.deaths += w;
      else c.otherPid += w;
    } else if (e.kind === "changed") c.changed += w;
    else if (e.kind === "new") c.new += w;
    else if (e.kind === "deleted") c.deleted += w;
    else c.otherFile += w;
  }
  return c;
}

/**
 * The subject: severity first, then the counts that are not zero, then the
 * host — "SECURITY ALERT: 2 cracking lines, 1 changed file on web1". A fixed
 * shape of numbers and words: no event text, and the host is reduced to
 * [A-Za-z0-9._-], so no header can be injected.
 */
export function formatSubject(host: string, c: SubjectCounts): string {
  const n = (v: number) => Math.max(0, Math.trunc(v)) || 0;
  const part = (v: number, one: string, many: string) => (n(v) > 0 ? [`${n(v)} ${n(v) === 1 ? one : many}`] : []);
  const parts = [
    ...part(c.alerts, "cracking line", "cracking lines"),
    ...part(c.violations, "security event", "security events"),
    ...part(c.deaths, "process died", "processes died"),
    ...part(c.changed, "changed file", "changed files"),
    ...part(c.new, "new file", "new files"),
    ...part(c.deleted, "deleted file", "deleted files"),
    ...part(c.otherFile, "file notice", "file notices"),
    ...part(c.otherPid, "process event", "process events"),
    ...part(c.otherLog, "log line", "log lines"),
  ];
  const severity = n(c.alerts) > 0 ? "SECURITY ALERT" : n(c.violations) > 0 ? "Security events" : n(c.deaths) > 0 ? "Process alert" : "integrityd";
  return `${severity}: ${parts.length ? parts.join(", ") : "nothing new"} on ${safeHost(host)}`;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** Local time as YYYY-MM-DD HH:MM:SS. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "????-??-?? ??:??:??";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** The footer in plain words: how stale a file can get, how far this cycle is, what still waits. */
export function formatCoverage(c: Coverage | undefined): string {
  const ok = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v) && v >= 0;
  const parts: string[] = [];
  if (ok(c?.cycleSeconds)) parts.push(`every file is re-checked about every ${formatSeconds(c!.cycleSeconds!)} at the current rates${ok(c?.entries) ? ` (${c!.entries} entries)` : ""}`);
  parts.push(ok(c?.oldestCheckAgeSec) ? `the oldest check was ${formatSeconds(c!.oldestCheckAgeSec!)} ago` : "the age of the oldest check is not known yet");
  if (ok(c?.coverage)) parts.push(`${(Math.min(c!.coverage!, 1) * 100).toFixed(1)}% of this cycle done`);
  if (ok(c?.speed) && c!.speed! > 1) parts.push(`checking ${Math.round(c!.speed! * 100) / 100} times faster after a change`);
  const waiting = ok(c?.waiting) && c!.waiting! > 0 ? `\n${c!.waiting} more event${c!.waiting === 1 ? " is" : "s are"} waiting for a later mail.` : "";
  const h = c?.hints ? safeLines(c.hints).join(" ") : "";
  const hints = h ? `\n${h[0].toUpperCase()}${h.slice(1)}.` : "";
  return `Files: ${parts.join("; ")}.${hints}${waiting}`;
}

const byTime = (a: ReportEvent, b: ReportEvent) => a.time - b.time || a.id - b.id;
const byId = (a: ReportEvent, b: ReportEvent) => a.id - b.id;

/** Group preserving first-appearance order. */
function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    let arr = m.get(k);
    if (!arr) m.set(k, (arr = []));
    arr.push(it);
  }
  return m;
}

interface Section {
  title: string;
  /** sub-groups: heading ("" = none) and their events */
  groups: { heading: string; events: ReportEvent[] }[];
  count: number;
}

function logSections(events: ReportEvent[]): Section[] {
  const bySection = groupBy([...events].sort(byId), (e) => e.section || "Log Events");
  // rank by logcheck prefix ("Security Alerts for sshd" ranks with "Security Alerts"), then first appearance
  const rank = (t: string) => {
    const i = LOG_SECTIONS.findIndex((p) => t === p || t.startsWith(`${p} `));
    return i < 0 ? LOG_SECTIONS.length : i;
  };
  const titles = [...bySection.keys()].map((t, i) => ({ t, i })).sort((a, b) => rank(a.t) - rank(b.t) || a.i - b.i).map((x) => x.t);
  return titles.map((title) => {
    const evs = bySection.get(title)!;
    const files = groupBy(evs, (e) => e.subject);
    return { title, count: total(evs), groups: [...files].map(([heading, es]) => ({ heading: `${heading}:`, events: es })) };
  });
}

function pidSections(events: ReportEvent[]): Section[] {
  if (events.length === 0) return [];
  return [{ title: "Process Events", count: total(events), groups: [{ heading: "", events: [...events].sort(byTime) }] }];
}

function fileSections(events: ReportEvent[]): Section[] {
  // urgent file events (package mismatches, src/packages) come first, in a section of their own
  const urgent = events.filter((e) => e.urgent).sort(byTime);
  const byKind = groupBy(events.filter((e) => !e.urgent).sort(byTime), (e) => e.kind);
  const known = FILE_KINDS.filter(([k]) => byKind.has(k));
  const other = [...byKind.keys()].filter((k) => !FILE_KINDS.some(([kk]) => kk === k)).map((k) => [k, `File Events: ${safeLines(k)[0]}`] as [string, string]);
  return [
    ...(urgent.length ? [{ title: "Urgent File Events", count: total(urgent), groups: [{ heading: "", events: urgent }] }] : []),
    ...[...known, ...other].map(([k, title]) => {
      const evs = byKind.get(k)!;
      return { title, count: total(evs), groups: [{ heading: "", events: evs }] };
    }),
  ];
}

export function formatReport(input: FormatInput): FormattedReport {
  const limit = input.lineLimit ?? LINE_LIMIT;
  const host = safeHost(input.host);
  const events = input.events;
  const log = events.filter((e) => e.channel === "log");
  const pid = events.filter((e) => e.channel === "pid");
  const file = events.filter((e) => e.channel === "file");
  const subject = formatSubject(host, subjectCounts(events));

  const out: string[] = [];
  const all = total(events);
  out.push(`integrityd report for ${host}, ${localTime(input.now)}: ${all} event${all === 1 ? "" : "s"}`);
  if (all > events.length) {
    out.push(`A flood: ${all - events.length} of these events are not shown (the first and the last of each group are); every one is in the database and the JSON log.`);
  }

  let used = 0;
  let omitted = 0;
  const emit = (lines: string[]) => {
    for (const l of lines) {
      if (used < limit) {
        out.push(l);
        used++;
      } else omitted++;
    }
  };

  const channels: [string, Section[], boolean][] = [
    ["Log Events", logSections(log), false],
    ["Process Events", pidSections(pid), true],
    ["File Events", fileSections(file), true],
  ];
  for (const [, sections, timed] of channels) {
    for (const s of sections) {
      const title = `${safeLines(s.title)[0]} (${s.count})`;
      out.push("", title, sectionUnderline(title));
      for (const g of s.groups) {
        if (g.heading !== "") {
          out.push("", safeLines(g.heading).join(" "));
        } else out.push("");
        for (const e of g.events) {
          if (e.skippedBefore) emit([`${INDENT}[... ${e.skippedBefore} more not shown ...]`]);
          const lines = safeLines(e.text);
          if (timed) lines[0] = `${localTime(e.time)} ${lines[0]}`;
          emit(lines.map((l) => INDENT + l));
        }
      }
    }
  }
  if (omitted > 0) {
    out.push("", `[${omitted} line${omitted === 1 ? "" : "s"} left out: this report is limited to ${limit} lines; the events stay in the database and in the JSON log if one is configured]`);
  }
  out.push("", "-- ", `integrityd ${safeLines(input.version)[0]} on ${host}`, formatCoverage(input.coverage));
  return { subject, text: out.join("\n") + "\n", omitted };
}
