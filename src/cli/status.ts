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
import { journalStatus, type JournalStatusRow } from "../logs/journal/status.ts";
import { pidStatus } from "../pids/status.ts";
import { recentChanges, scanStatus } from "../scan/status.ts";
import { readCoverage } from "../scan/hints/status.ts";
import { coverageSummary, type AreaCoverage } from "../scan/hints/core.ts";
import { formatSeconds } from "../util/duration.ts";
import { escapeBytes, safeLines } from "../util/escape.ts";
import { META_STARTED, META_STOPPED } from "../daemon/lifecycle.ts";
import { lockHolder } from "../db/lock.ts";
import { deliveryStatus } from "../report/delivery.ts";
import { localTime } from "../report/format.ts";
import { packagesStatus } from "../packages/status.ts";
import { chainStatus, type ChainStatus } from "../chain/status.ts";

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

/**
 * The facts of `--status`, gathered from each module's own status; also what
 * `--status --json` prints (the field names are stable: monitoring reads them).
 */
export interface StatusFacts {
  time: number;
  database: string;
  daemon: { running: boolean; pid: number | null; since: number | null; lastStop: number | null };
  mail: { on: boolean; to: string[]; via: string; lastSent: number | null; lastSentEvents: number | null; lastError: string | null; lastErrorTime: number | null; failedSinceSuccess: number };
  events: { waiting: number | null; file: number | null; log: number | null; process: number | null; oldestWaiting: number | null; behind: Record<string, number> };
  files: { entries: number | null; cycle: number | null; checkedShare: number | null; oldestCheckAgeSeconds: number | null; speed: number | null; lastCycleSeconds: number | null; expectedCycleSeconds: number | null };
  logs: { path: string; offset: number; size: number | null; lagBytes: number | null; missing: boolean; updated: number }[] | null;
  journals: JournalStatusRow[] | null;
  /** change hints per area (scan/hints/): as the daemon last said it */
  hints: AreaCoverage[];
  processes: { pidfile: string; pid: number | null; name: string | null; state: string; since: number; detail: string }[] | null;
  chain: ChainStatus | null;
}

export function statusFacts(db: Database, config: Config, now = Date.now()): StatusFacts {
  const num = (k: string) => {
    const v = Number(attempt(() => (db.query("SELECT value FROM meta WHERE key = ?").get(k) as { value: string } | null)?.value));
    return Number.isFinite(v) && v > 0 ? v : null;
  };
  const holder = lockHolder(config.database);
  const sinks = [...(config.jsonlog !== "" ? ["jsonlog"] : []), ...(config.syslog ? ["syslog"] : [])];
  const d = attempt(() => deliveryStatus(db, sinks));
  const f = scanStatus(db, now);
  const speed = f.speed ?? 1;
  const logs = attempt(() => logStatus(db));
  const pids = attempt(() => pidStatus(db));
  return {
    time: now,
    database: config.database,
    daemon: { running: holder !== null, pid: holder, since: holder !== null ? num(META_STARTED) : null, lastStop: num(META_STOPPED) },
    mail: {
      on: config.email.length > 0, to: config.email,
      via: config.sendmail ? `sendmail ${config.sendmail}` : `smtp ${config.smtp.host}:${config.smtp.port}`,
      lastSent: d?.lastSent?.time ?? null, lastSentEvents: d?.lastSent?.events ?? null,
      lastError: d?.lastError?.error ?? null, lastErrorTime: d?.lastError?.time ?? null, failedSinceSuccess: d?.lastError?.failedSinceSuccess ?? 0,
    },
    events: {
      waiting: d?.pending.total ?? null, file: d?.pending.file ?? null, log: d?.pending.log ?? null, process: d?.pending.pid ?? null,
      oldestWaiting: d?.pending.oldest ?? null, behind: d?.behind ?? {},
    },
    files: {
      entries: f.entries ?? null, cycle: f.cycle ?? null, checkedShare: f.coverage ?? null,
      oldestCheckAgeSeconds: f.oldestCheckAgeSec ?? null, speed: f.speed ?? null, lastCycleSeconds: f.lastCycleMs !== undefined ? f.lastCycleMs / 1000 : null,
      // every entry is traversed once per cycle at filerate × speed (big files are read at byterate besides)
      expectedCycleSeconds: f.entries !== undefined && config.filerate > 0 ? f.entries / (config.filerate * speed) : null,
    },
    logs: logs === undefined ? null : logs.map((l) => ({ ...l, lagBytes: l.size !== null ? Math.max(0, l.size - l.offset) : null })),
    journals: attempt(() => journalStatus(db, config.journals)) ?? null,
    processes: pids === undefined ? null : pids,
    hints: readCoverage(db),
    chain: attempt(() => chainStatus(db, config)) ?? null,
  };
}

/** The human summary, then each part in detail. */
export function statusReport(db: Database, config: Config, now = Date.now()): string {
  const out: string[] = [];
  const unknown = "unknown";
  const s = statusFacts(db, config, now);
  out.push(`integrityd status: database ${clean(config.database)}, ${localTime(now)}`);
  out.push("", "Summary");
  out.push(`  daemon:                   ${s.daemon.running ? `running, PID ${s.daemon.pid}${s.daemon.since ? `, since ${when(s.daemon.since, now)}` : ""}` : `not running${s.daemon.lastStop ? ` (stopped ${when(s.daemon.lastStop, now)})` : ""}`}`);
  out.push(`  last mail:                ${!s.mail.on ? "mail is off" : s.mail.lastSent ? `${when(s.mail.lastSent, now)} to ${s.mail.to.map(clean).join(", ")}` : "none sent yet"}${s.mail.failedSinceSuccess > 0 ? `; ${s.mail.failedSinceSuccess} failed attempt${s.mail.failedSinceSuccess === 1 ? "" : "s"} since` : ""}`);
  out.push(`  events waiting:           ${s.events.waiting ?? unknown}${s.events.oldestWaiting ? ` (oldest queued ${when(s.events.oldestWaiting, now)})` : ""}`);
  const fl = s.files;
  out.push(`  files:                    ${fl.entries ?? unknown} entries${fl.checkedShare !== null ? `, ${(fl.checkedShare * 100).toFixed(1)}% of this cycle checked` : ""}${fl.expectedCycleSeconds !== null ? `; a full cycle takes about ${formatSeconds(fl.expectedCycleSeconds)} at the current rates` : ""}`);
  out.push(`  change hints:             ${s.hints.length ? (s.daemon.running ? coverageSummary(s.hints).replace(/^change hints: /, "") : "none: the daemon is not running") : unknown}`);
  const lagging = (s.logs ?? []).filter((l) => (l.lagBytes ?? 0) > 0 || l.missing);
  out.push(`  logs:                     ${s.logs === null ? unknown : `${s.logs.length} followed${lagging.length ? `; ${lagging.map((l) => `${clean(l.path)} ${l.missing ? "missing" : `${l.lagBytes} bytes behind`}`).join(", ")}` : s.logs.length ? ", none behind" : ""}`}`);
  const bad = (s.processes ?? []).filter((p) => p.state !== "ok");
  const ch = s.chain;
  out.push(`  tamper evidence:          ${!ch ? unknown : ch.state === "on" ? `on, ${ch.entries} entries, key at epoch ${ch.keyEpoch}${ch.lastSeal ? `, last sealed ${when(ch.lastSeal, now)}` : ""}` : ch.state === "off" ? "off (no first key yet: integrityd --init-db)" : `BROKEN: ${clean(ch.problem)}`}`);
  out.push(`  PID files:                ${s.processes === null ? unknown : `${s.processes.length} watched${bad.length ? `; ${bad.map((p) => `${clean(p.pidfile)} ${clean(p.state)}`).join(", ")}` : s.processes.length ? ", all ok" : ""}`}`);

  // ---- scan
  const f = scanStatus(db, now);
  out.push("", "Files");
  out.push(`  entries tracked:          ${f.entries ?? unknown}`);
  out.push(`  checked in this cycle:    ${f.coverage !== undefined ? `${(f.coverage * 100).toFixed(1)}%` : unknown}${f.cycle !== undefined ? ` (cycle ${f.cycle})` : ""}`);
  out.push(`  oldest check:             ${f.oldestCheckAgeSec !== undefined ? `${formatSeconds(f.oldestCheckAgeSec)} ago` : unknown}`);
  out.push(`  speed factor:             ${f.speed ?? unknown}`);
  out.push(`  last cycle duration:      ${f.lastCycleMs !== undefined ? formatSeconds(f.lastCycleMs / 1000) : unknown}`);
  for (const h of s.hints) out.push(`  ${"hints:".padEnd(26)}${clean(h.area)}: ${h.state} (${h.backend})${h.reason ? `, ${clean(h.reason)}` : ""}`);
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

  // ---- journals
  out.push("", `Journals${s.journals ? ` (${s.journals.length})` : ""}`);
  if (s.journals === null) out.push("  unknown");
  else if (s.journals.length === 0) out.push("  none");
  for (const j of s.journals ?? []) {
    const lag = j.lagEntries === 0 ? "caught up" : j.lagEntries !== null ? `${j.lagEntries} entries${j.lagSeconds !== null ? ` (${formatSeconds(j.lagSeconds)})` : ""} behind` : j.lagSeconds !== null ? `${formatSeconds(j.lagSeconds)} behind` : "lag unknown";
    out.push(`  ${clean(j.source)}  cursor ${j.cursor ? `${clean(j.cursor).slice(0, 200)} (entry of ${when(j.at, now)})` : "none (empty journal)"}  ${lag}  ${j.entries} entries read${j.problem ? `  PROBLEM: ${clean(j.problem).slice(0, 200)}` : ""}`);
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

  // ---- packages
  const pk = attempt(() => packagesStatus(db));
  out.push("", "Packages");
  if (pk === undefined) out.push("  unknown");
  else {
    out.push(`  manifests:                ${pk.verified} verified, ${pk.md5only} md5-only, ${pk.unverified} unverified package versions; ${pk.paths} paths`);
    const b = pk.lastBackfill;
    out.push(`  last backfill:            ${b ? `${when(b.time, now)}: ${b.verified} verified, ${b.md5only} md5-only, ${b.none} without evidence` : "none yet"}`);
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
