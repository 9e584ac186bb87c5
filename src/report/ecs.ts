// The one event schema of the machine-readable outputs (the JSON log, and the
// structured data of RFC 5424 syslog): an event row and its `details`, mapped
// to Elastic Common Schema field names where ECS has one, ours under
// `integrityd.*`. Pure: no clock, no I/O. The JSON Schema of what comes out is
// etc/integrityd-event.schema.json (embedded; `--print-schema`); a test
// validates every kind of event against it. Bump SCHEMA_VERSION (and the
// schema's const) when a field changes meaning or type; adding a field does not.
//
// Mapping (ECS 8.11):
//   @timestamp          when the event was queued (ISO 8601 UTC, ms)
//   event.id            the queue id, as text (unique per host: deduplicate on host.name + event.id)
//   event.kind          "alert" for detections (file new/changed/deleted, a log
//                       alert or violation, a process died/zombie/restarted, a
//                       package mismatch), "event" for everything else
//   event.category/type ECS allowed values by channel and kind (categorize())
//   event.action        our kind (changed, new, alert, violation, died, ...)
//   event.severity      the syslog severity number (1 alert, 3 err, 5 notice);
//   log.level           its name
//   event.module "integrityd", event.dataset "integrityd.<channel>"
//   message             the report text (a log line: the line, escaped)
//   file.*              path, type, mode ("0644"), uid, gid, inode (text),
//                       size, mtime, ctime (ISO), hash.sha256/sha512,
//                       target_path (a symlink's target)
//   log.file.path       the log a line came from
//   rule.name           the deciding rule's FILE:LINE, when the producer gave it (details.rule)
//   rule.category       the report section (logcheck's section)
//   process.*, user.id, group.id   the writer of a file change (details.writer), the
//                       journal origin of a line (details.journal), a PID file's process
//   package.name/version, integrityd.package.verdict   (details.package*)
// Hostile bytes: every text is the printable escaped form of util/escape.ts
// (\xNN for a byte that is not UTF-8, \n \t \r \\, \uNNNN for code points that
// hide or reorder text); a text other modules put in details as they found
// it (a process name, a unit, a package name) gets its control characters
// escaped (printable()), so no value holds a raw one. Where
// the escaped form differs from the bytes (it holds a backslash), the exact
// bytes ride along in base64:
// integrityd.file.path_base64 (file.path) and integrityd.message_base64 (a log
// line's message, without the cut marker). The row's whole details object
// stays available, as JSON text, in integrityd.details (for forensics; its
// keys are not part of the schema).
import type { EventRow } from "../db/events.ts";
import { CUT_MARKER } from "../logs/lines.ts";
import { escapeControls, unescapeBytes } from "../util/escape.ts";

export const SCHEMA_VERSION = 1;
export const ECS_VERSION = "8.11.0";
/** The embedded JSON Schema's name under etc/. */
export const SCHEMA_FILE = "integrityd-event.schema.json";

export type Level = "alert" | "err" | "notice";
const SEVERITY: Record<Level, number> = { alert: 1, err: 3, notice: 5 };

/** The syslog level of an event: alert when urgent, err for kind error, notice otherwise. */
export function eventLevel(e: Pick<EventRow, "urgent" | "kind">): Level {
  if (e.urgent === 1) return "alert";
  if (e.kind === "error") return "err";
  return "notice";
}

type Obj = Record<string, unknown>;
export type EcsDoc = Obj;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : typeof v === "number" && Number.isFinite(v) ? String(v) : undefined);
/** A text with no control character: escapeControls's escapes, and \t \n for TAB and LF (which it leaves). */
export function printable(v: string): string {
  return escapeControls(v).replace(/[\t\n]/g, (c) => (c === "\t" ? "\\t" : "\\n"));
}
/** A text another module put in details as it found it (a process name, a unit). */
const txt = (v: unknown): string | undefined => (typeof v === "string" ? printable(v) : str(v));
const int = (v: unknown): number | undefined => {
  const n = typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v;
  return typeof n === "number" && Number.isSafeInteger(n) ? n : undefined;
};

export function parseDetails(s: string): Obj {
  try {
    const v = JSON.parse(s);
    return isObj(v) ? v : { value: v };
  } catch {
    return { raw: s };
  }
}

/** Drop undefined members and empty objects, so absent facts are absent fields. */
function prune(o: Obj): Obj | undefined {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    if (isObj(v)) {
      const p = prune(v);
      if (p) out[k] = p;
    } else out[k] = v;
  }
  return Object.keys(out).length ? out : undefined;
}

/** The base64 of the bytes an escaped text stands for, when they differ from its UTF-8. */
export function rawBase64(escaped: string): string | undefined {
  return escaped.includes("\\") ? Buffer.from(unescapeBytes(escaped)).toString("base64") : undefined;
}

/** ns since the epoch (decimal text) → ISO 8601 with ms; undefined when not a time. */
function nsTime(v: unknown): string | undefined {
  if (typeof v !== "string" || !/^-?\d+$/.test(v)) return undefined;
  const d = new Date(Number(BigInt(v) / 1_000_000n));
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

const DETECTIONS: Record<string, readonly string[]> = {
  file: ["new", "changed", "deleted"],
  log: ["alert", "violation"],
  pid: ["died", "zombie", "restarted"],
};

const FILE_TYPE: Record<string, string> = { new: "creation", changed: "change", deleted: "deletion", error: "error", baseline: "info", package: "installation" };
const PID_TYPE: Record<string, string> = { died: "end", zombie: "info", restarted: "start", created: "creation", removed: "deletion", recovered: "start", error: "error" };

/** ECS event.category and event.type (allowed values only). */
export function categorize(channel: string, kind: string): { category: string[]; type: string[] } {
  if (channel === "file") return { category: [kind === "package" ? "package" : "file"], type: [FILE_TYPE[kind] ?? "info"] };
  if (channel === "pid") return { category: ["process"], type: [PID_TYPE[kind] ?? "info"] };
  if (kind === "alert" || kind === "violation") return { category: ["intrusion_detection"], type: ["info"] };
  return { category: ["host"], type: [kind === "error" || kind === "fatal" ? "error" : "info"] };
}

/** A file's recorded attributes (scan/attrs.ts attrsJson) as ECS file.* fields. */
function fileAttrs(a: Obj | undefined): Obj {
  if (!a) return {};
  const hash = str(a.hash);
  const m = hash ? /^(sha256|sha512):([0-9a-f]+)$/.exec(hash) : null;
  return {
    type: str(a.type), mode: str(a.mode), uid: str(a.uid), gid: str(a.gid), inode: str(a.ino), size: int(a.size),
    mtime: nsTime(a.mtime), ctime: nsTime(a.ctime), target_path: str(a.target),
    hash: m ? { [m[1]]: m[2] } : undefined,
  };
}

/** Our own record of a file's attributes (before/after a change), schema-stable. */
function ownAttrs(a: unknown): Obj | undefined {
  if (!isObj(a)) return undefined;
  return { type: str(a.type), mode: str(a.mode), uid: str(a.uid), gid: str(a.gid), inode: str(a.ino), size: int(a.size), nlink: int(a.nlink), mtime: nsTime(a.mtime), ctime: nsTime(a.ctime), hash: str(a.hash), target: str(a.target) };
}

/** details.writer / details.journal / a PID file's process → ECS process.*, user.id, group.id. */
function actor(d: Obj): { process?: Obj; user?: Obj; group?: Obj } {
  const w = isObj(d.writer) ? d.writer : isObj(d.journal) ? d.journal : isObj(d.process) ? d.process : undefined;
  const pid = int(w?.pid) ?? int(d.pid);
  return {
    process: { pid, executable: txt(w?.exe), name: txt(w?.comm) ?? txt(w?.name) },
    user: { id: str(w?.uid) },
    group: { id: str(w?.gid) },
  };
}

/** One event row as a document of the schema. host: this host's name. */
export function ecsEvent(e: EventRow, host: string): EcsDoc {
  const d = parseDetails(e.details);
  const t = new Date(e.time);
  const level = eventLevel(e);
  const detection = (DETECTIONS[e.channel] ?? []).includes(e.kind) || d.package === "mismatch";
  const isLine = e.channel === "log" && d.offset !== undefined;
  const text = isLine && d.cut === true && e.text.endsWith(CUT_MARKER) ? e.text.slice(0, -CUT_MARKER.length) : e.text;
  const path = e.channel === "file" && e.kind !== "baseline" && e.kind !== "package" ? (str(d.path) ?? e.subject) : undefined;
  const attrs = isObj(d.after) ? d.after : isObj(d.before) ? d.before : undefined;
  const who = actor(d);
  const journal = isObj(d.journal) ? d.journal : undefined;
  const doc: Obj = {
    "@timestamp": Number.isNaN(t.getTime()) ? new Date(0).toISOString() : t.toISOString(),
    ecs: { version: ECS_VERSION },
    message: e.text,
    event: {
      id: String(e.id), kind: detection ? "alert" : "event", ...categorize(e.channel, e.kind), action: e.kind,
      severity: SEVERITY[level], module: "integrityd", dataset: `integrityd.${e.channel}`,
    },
    log: { level, file: { path: e.channel === "log" && d.rules === undefined ? txt(d.log) : undefined } },
    host: { name: host },
    file: path !== undefined ? { path, ...fileAttrs(attrs) } : undefined,
    process: who.process,
    user: who.user,
    group: who.group,
    package: { name: txt(d.package_name), version: txt(d.package_version) },
    rule: e.channel === "log" ? { name: txt(d.rule), category: e.section || undefined } : undefined,
    integrityd: {
      schema_version: SCHEMA_VERSION,
      channel: e.channel,
      kind: e.kind,
      urgent: e.urgent === 1,
      subject: e.subject,
      section: e.section || undefined,
      message_base64: isLine ? rawBase64(text) : undefined,
      file: path !== undefined ? {
        path_base64: rawBase64(path),
        changes: isObj(d.changes) ? Object.keys(d.changes) : undefined,
        before: e.kind === "changed" ? ownAttrs(d.before) : undefined,
        hash: str(attrs?.hash),
      } : undefined,
      log: isLine ? { offset: int(d.offset), cut: d.cut === true || undefined } : undefined,
      package: { verdict: str(d.package) },
      journal: journal ? { source: txt(journal.source), cursor: txt(journal.cursor), unit: txt(journal.unit), identifier: txt(journal.identifier), trusted: typeof journal.trusted === "boolean" ? journal.trusted : undefined } : undefined,
      spoofed: d.spoofed === true || undefined,
      spoof_reason: txt(d.spoof_reason),
      pidfile: e.channel === "pid" ? txt(d.pidfile) : undefined,
      details: e.details,
    },
  };
  return prune(doc)!;
}
