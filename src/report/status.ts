// `integrityd --status`: the formatting of a read-only summary, safe while
// the daemon runs (the database is opened {readonly: true}). Each module says
// its own figures (scan/status.ts, logs/status.ts, pids/status.ts,
// report/delivery.ts); this file only lays them out. What a module cannot
// read (a missing table, a missing key) shows as "unknown". Every text from
// the database is made printable before it reaches the terminal (file names
// may hold anything).
import type { Database } from "bun:sqlite";
import type { Config } from "../config/config.ts";
import { logStatus } from "../logs/status.ts";
import { pidStatus } from "../pids/status.ts";
import { recentChanges, scanStatus } from "../scan/status.ts";
import { formatSeconds } from "../util/duration.ts";
import { escapeBytes, safeLines } from "../util/escape.ts";
import { deliveryStatus } from "./delivery.ts";
import { localTime } from "./format.ts";

const clean = (s: unknown) => safeLines(String(s ?? "")).join(" | ");

/** The value, or undefined when the database cannot give it (missing or foreign tables). */
function attempt<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

function when(ms: unknown, now: number): string {
  const t = Number(ms);
  if (ms === null || ms === undefined || !Number.isFinite(t) || t <= 0) return "unknown";
  return `${localTime(t)} (${now >= t ? `${formatSeconds((now - t) / 1000)} ago` : "in the future"})`;
}

export function statusReport(db: Database, config: Config, now = Date.now()): string {
  const out: string[] = [];
  const unknown = "unknown";
  out.push(`integrityd status: database ${clean(config.database)}, ${localTime(now)}`);

  // ---- scan
  const f = scanStatus(db, now);
  out.push("", "Files");
  out.push(`  entries tracked:          ${f.entries ?? unknown}`);
  out.push(`  checked in this cycle:    ${f.coverage !== undefined ? `${(f.coverage * 100).toFixed(1)}%` : unknown}${f.cycle !== undefined ? ` (cycle ${f.cycle})` : ""}`);
  out.push(`  oldest check:             ${f.oldestCheckAgeSec !== undefined ? `${formatSeconds(f.oldestCheckAgeSec)} ago` : unknown}`);
  out.push(`  speed factor:             ${f.speed ?? unknown}`);
  out.push(`  last cycle duration:      ${f.lastCycleMs !== undefined ? formatSeconds(f.lastCycleMs / 1000) : unknown}`);
  for (const m of f.more) out.push(`  ${`${clean(m.key)}:`.padEnd(26)}${m.time ? when(m.value, now) : clean(m.value).slice(0, 200)}`);
  const changes = attempt(() => recentChanges(db, 10));
  if (changes === undefined) out.push("  recent changes:           unknown");
  else if (changes.length === 0) out.push("  recent changes:           none");
  else {
    out.push("  recent changes:");
    for (const c of changes) out.push(`    ${localTime(Number(c.time))}  ${clean(c.kind).padEnd(8)} ${escapeBytes(c.path)}`);
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
