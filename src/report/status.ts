// `integrityd --status`: a read-only summary from the database alone, safe
// while the daemon runs (open the database with {readonly: true}). Every
// section tolerates missing tables, empty tables and missing meta keys: what
// cannot be read shows as "unknown". Every text from the database is made
// printable before it reaches the terminal (file names may hold anything).
//
// Scanner figures: the share checked in the current cycle and the oldest check
// come from the entries table (current cycle = meta scan.cycle when present,
// else the highest cycle in entries); the speed factor and the last cycle
// duration come from meta keys (see SCAN_META below; every other scan.* key is
// listed as it is).
import type { Database } from "bun:sqlite";
import type { Config } from "../config/config.ts";
import { escapeBytes, escapeLatin1, safeLines } from "../util/escape.ts";
import { formatSeconds } from "../util/duration.ts";
import { type Coverage, localTime } from "./format.ts";
import { logStatus } from "../logs/status.ts";
import { pidStatus } from "../pids/status.ts";
import { deliveryStatus } from "./delivery.ts";

/**
 * Meta keys of the scanner (documented in src/scan/scanner.ts); first present
 * wins, values are numbers (or JSON objects holding the field).
 */
export const SCAN_META = {
  cycle: ["scan.cycle"],
  checked: ["scan.checked"],
  speed: ["scan.speed"],
  lastCycleMs: ["scan.last_cycle_duration"],
  lastCycleEntries: ["scan.last_cycle_entries"],
};
/** scan.* keys shown as times in --status. */
const SCAN_TIME_KEYS = ["scan.cycle_start", "scan.first_pass_start", "scan.last_cycle_end", "scan.last_change"];

const clean = (s: unknown) => safeLines(String(s ?? "")).join(" | ");

function get<T>(db: Database, sql: string, ...args: (string | number)[]): T | undefined {
  try {
    return (db.query(sql).get(...args) as T | null) ?? undefined;
  } catch {
    return undefined;
  }
}

/** The value, or undefined when the database cannot give it (missing or foreign tables). */
function attempt<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

function all<T>(db: Database, sql: string, ...args: (string | number)[]): T[] | undefined {
  try {
    return db.query(sql).all(...args) as T[];
  } catch {
    return undefined;
  }
}

function meta(db: Database, key: string): string | undefined {
  return get<{ value: string }>(db, "SELECT value FROM meta WHERE key = ?", key)?.value;
}

/** A number from a meta value: plain number, or a JSON object's `field`. */
function metaNumber(db: Database, keys: string[], field: string): number | undefined {
  for (const k of keys) {
    const v = meta(db, k);
    if (v === undefined) continue;
    const n = Number(v);
    if (v.trim() !== "" && Number.isFinite(n)) return n;
    try {
      const o = JSON.parse(v);
      const f = Number(o?.[field]);
      if (o && typeof o === "object" && o[field] !== undefined && Number.isFinite(f)) return f;
    } catch {
      // not JSON
    }
  }
  return undefined;
}

interface ScanFacts extends Coverage {
  entries?: number;
  cycle?: number;
  lastCycleMs?: number;
}

function scanFacts(db: Database, now: number): ScanFacts {
  const out: ScanFacts = {};
  const agg = get<{ n: number; oldest: number | null; maxcycle: number | null }>(db, "SELECT count(*) AS n, min(checked) AS oldest, max(cycle) AS maxcycle FROM entries");
  if (agg) {
    out.entries = agg.n;
    if (agg.oldest !== null && agg.n > 0) out.oldestCheckAgeSec = Math.max(0, (now - Number(agg.oldest)) / 1000);
    const cycle = metaNumber(db, SCAN_META.cycle, "cycle") ?? (agg.maxcycle === null ? undefined : Number(agg.maxcycle));
    out.cycle = cycle;
    if (cycle !== undefined && agg.n > 0) {
      const done = get<{ n: number }>(db, "SELECT count(*) AS n FROM entries WHERE cycle >= ?", cycle);
      if (done) out.coverage = done.n / agg.n;
    }
  }
  out.speed = metaNumber(db, SCAN_META.speed, "speed");
  out.lastCycleMs = metaNumber(db, SCAN_META.lastCycleMs, "duration");
  return out;
}

/**
 * The footer figures of a report mail (the reporter's default coverage source).
 * Cheap on big databases: meta keys and the entries_checked index, no full
 * scan (the share is scan.checked over the entries of the last cycle).
 */
export function scanCoverage(db: Database, now: number): Coverage {
  const out: Coverage = { speed: metaNumber(db, SCAN_META.speed, "speed") };
  const oldest = get<{ t: number | null }>(db, "SELECT min(checked) AS t FROM entries")?.t;
  if (oldest !== null && oldest !== undefined) out.oldestCheckAgeSec = Math.max(0, (now - Number(oldest)) / 1000);
  const checked = metaNumber(db, SCAN_META.checked, "checked");
  let total = metaNumber(db, SCAN_META.lastCycleEntries, "entries");
  if (total === undefined && checked !== undefined) total = get<{ n: number }>(db, "SELECT count(*) AS n FROM entries")?.n;
  if (checked !== undefined && total !== undefined && total > 0) out.coverage = Math.min(1, checked / total);
  return out;
}

function when(ms: unknown, now: number): string {
  const t = Number(ms);
  if (ms === null || ms === undefined || !Number.isFinite(t) || t <= 0) return "unknown";
  return `${localTime(t)} (${now >= t ? `${formatSeconds((now - t) / 1000)} ago` : "in the future"})`;
}

function pathText(p: unknown): string {
  if (p instanceof Uint8Array) return escapeBytes(p);
  return clean(p);
}

/** pids paths are raw bytes held one char per byte (latin1). */
function latin1Text(p: unknown): string {
  if (typeof p === "string") return escapeLatin1(p);
  return pathText(p);
}

export function statusReport(db: Database, config: Config, now = Date.now()): string {
  const out: string[] = [];
  const unknown = "unknown";
  out.push(`integrityd status: database ${clean(config.database)}, ${localTime(now)}`);

  // ---- scan
  const f = scanFacts(db, now);
  out.push("", "Files");
  out.push(`  entries tracked:          ${f.entries ?? unknown}`);
  out.push(`  checked in this cycle:    ${f.coverage !== undefined ? `${(f.coverage * 100).toFixed(1)}%` : unknown}${f.cycle !== undefined ? ` (cycle ${f.cycle})` : ""}`);
  out.push(`  oldest check:             ${f.oldestCheckAgeSec !== undefined ? `${formatSeconds(f.oldestCheckAgeSec)} ago` : unknown}`);
  out.push(`  speed factor:             ${f.speed ?? unknown}`);
  out.push(`  last cycle duration:      ${f.lastCycleMs !== undefined ? formatSeconds(f.lastCycleMs / 1000) : unknown}`);
  const known = new Set(Object.values(SCAN_META).flat());
  const extra = all<{ key: string; value: string }>(db, "SELECT key, value FROM meta WHERE key LIKE 'scan.%' ORDER BY key") ?? [];
  for (const r of extra) {
    if (known.has(r.key)) continue;
    const v = SCAN_TIME_KEYS.includes(r.key) ? when(r.value, now) : clean(r.value).slice(0, 200);
    out.push(`  ${`${clean(r.key)}:`.padEnd(26)}${v}`);
  }
  const changes = all<{ time: number; path: unknown; kind: string }>(db, "SELECT time, path, kind FROM history ORDER BY id DESC LIMIT 10");
  if (changes === undefined) out.push("  recent changes:           unknown");
  else if (changes.length === 0) out.push("  recent changes:           none");
  else {
    out.push("  recent changes:");
    for (const c of changes) out.push(`    ${localTime(Number(c.time))}  ${clean(c.kind).padEnd(8)} ${pathText(c.path)}`);
  }

  // ---- logs
  const logs = attempt(() => logStatus(db));
  out.push("", `Logs${logs ? ` (${logs.length})` : ""}`);
  if (logs === undefined) out.push("  unknown");
  else if (logs.length === 0) out.push("  none");
  for (const l of logs ?? []) {
    out.push(`  ${clean(l.path)}  offset ${l.offset}${l.size !== null ? ` of ${l.size}` : ""}${l.missing ? "  MISSING" : ""}  updated ${when(l.updated, now)}`);
  }

  // ---- pids
  const pids = attempt(() => pidStatus(db));
  out.push("", `Processes${pids ? ` (${pids.length})` : ""}`);
  if (pids === undefined) out.push("  unknown");
  else if (pids.length === 0) out.push("  none");
  for (const p of pids ?? []) {
    const who = p.pid !== null ? `PID ${p.pid}${p.name ? ` (${clean(p.name)})` : ""}` : "no PID";
    out.push(`  ${clean(p.pidfile)}  ${who}  ${clean(p.state)} since ${when(p.since, now)}${p.detail ? `  ${clean(p.detail).slice(0, 200)}` : ""}`);
  }

  // ---- reports
  out.push("", "Reports");
  const sinks = [...(config.jsonlog !== "" ? ["jsonlog"] : []), ...(config.syslog ? ["syslog"] : [])];
  const d = attempt(() => deliveryStatus(db, sinks));
  const mailOn = config.email.length > 0;
  const label = mailOn ? "undelivered events:      " : "not mailed (mail is off):";
  if (d === undefined) out.push(`  ${label} unknown`);
  else {
    const p = d.pending;
    out.push(`  ${label} ${p.total} (file ${p.file}, log ${p.log}, process ${p.pid})${p.oldest !== undefined ? `; oldest queued ${when(p.oldest, now)}` : ""}`);
  }
  out.push(`  mail:                     ${mailOn ? `to ${config.email.map(clean).join(", ")} via ${config.sendmail ? `sendmail ${clean(config.sendmail)}` : `smtp ${clean(config.smtp.host)}:${config.smtp.port}`}` : "off"}`);
  const sent = d?.lastSent;
  out.push(`  last mail sent:           ${sent ? `${when(sent.time, now)}, ${sent.events} events${sent.note ? ` (${clean(sent.note).slice(0, 200)})` : ""}` : d ? "never" : unknown}`);
  const err = d?.lastError;
  if (err) {
    out.push(`  last delivery error:      ${when(err.time, now)}: ${clean(err.error).slice(0, 300)}${err.failedSinceSuccess > 0 ? ` (${err.failedSinceSuccess} failed attempt${err.failedSinceSuccess === 1 ? "" : "s"} since the last success)` : " (delivered since)"}`);
  } else out.push(`  last delivery error:      ${d ? "none" : unknown}`);
  for (const name of sinks) {
    const where = name === "jsonlog" ? clean(config.jsonlog) : `facility ${clean(config.syslogfacility)}`;
    out.push(`  ${`${name}:`.padEnd(26)}${where}; ${d?.behind[name] ?? unknown} events not yet written`);
  }
  return `${out.join("\n")}\n`;
}
