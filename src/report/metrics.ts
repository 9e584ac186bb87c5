// The Prometheus text format (0.0.4) of the daemon's figures, for
// node-exporter's textfile collector. Pure: the figures in (the same facts as
// `--status --json`, cli/status.ts, plus the database's size and the rule
// sets' loads), the text out. Written by metricsfile.ts.
//
// Every family is a gauge (none of these figures only ever grows), named
// integrityd_<what>[_<unit>] with base units (seconds, bytes, a 0..1 ratio);
// times are Unix seconds (`_timestamp_seconds`). A figure that is not known
// (no mail sent yet, no cycle finished) is left out, not written as 0. No
// sample carries a timestamp (the textfile collector refuses them); the
// file's age is node_textfile_mtime_seconds, and integrityd_up is 0 in the
// file written at a clean stop.
import type { StatusFacts } from "../cli/status.ts";
import type { RuleLoad } from "./ruleloads.ts";

export interface MetricsInput {
  /** false in the file written as the daemon stops */
  up: boolean;
  facts: StatusFacts;
  databaseBytes: number | null;
  rules: readonly RuleLoad[];
}

type Labels = Record<string, string>;
interface Family {
  name: string;
  help: string;
  samples: { labels?: Labels; value: number }[];
}

/** A label value as the text format wants it: \\, \" and \n escaped. */
export function labelValue(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

const seconds = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : ms / 1000);

export function renderMetrics(m: MetricsInput): string {
  const f = m.facts;
  const families: Family[] = [];
  const add = (name: string, help: string, ...samples: { labels?: Labels; value: number | null | undefined }[]) => {
    const known = samples.filter((s): s is { labels?: Labels; value: number } => s.value !== null && s.value !== undefined && Number.isFinite(s.value));
    if (known.length) families.push({ name: `integrityd_${name}`, help, samples: known });
  };
  add("up", "1 while the daemon runs; 0 in the file written at a clean stop", { value: m.up ? 1 : 0 });
  add("metrics_timestamp_seconds", "when this file was written", { value: f.time / 1000 });
  add("start_timestamp_seconds", "when the running daemon started", { value: seconds(f.daemon.since) });
  add("events_waiting", "events not yet mailed, by channel",
    { labels: { channel: "file" }, value: f.events.file }, { labels: { channel: "log" }, value: f.events.log }, { labels: { channel: "pid" }, value: f.events.process });
  add("events_waiting_oldest_timestamp_seconds", "when the oldest event not yet mailed was queued", { value: seconds(f.events.oldestWaiting) });
  add("output_events_behind", "events not yet written by an append-only output (jsonlog, syslog)",
    ...Object.entries(f.events.behind).map(([output, value]) => ({ labels: { output }, value })));
  add("mail_last_success_timestamp_seconds", "when the last mail was accepted by the relay", { value: seconds(f.mail.lastSent) });
  add("mail_failed_attempts", "mail deliveries that failed since the last success", { value: f.mail.on ? f.mail.failedSinceSuccess : null });
  add("files_entries", "entries recorded by the integrity check", { value: f.files.entries });
  add("files_cycle", "number of the current integrity check cycle", { value: f.files.cycle });
  add("files_cycle_checked_ratio", "share of the entries checked in the current cycle (0..1)", { value: f.files.checkedShare });
  add("files_oldest_check_age_seconds", "age of the least recent check of any entry", { value: f.files.oldestCheckAgeSeconds });
  add("files_expected_cycle_seconds", "how long a full cycle takes at the current rates: the staleness bound of a check", { value: f.files.expectedCycleSeconds });
  add("files_last_cycle_seconds", "how long the last complete cycle took", { value: f.files.lastCycleSeconds });
  add("files_speed_factor", "the current speed factor of the integrity check (1 .. speedup)", { value: f.files.speed });
  add("rule_set_rules", "rules in a loaded rule set", ...m.rules.map((r) => ({ labels: { home: r.home, level: r.level }, value: r.rules })));
  add("rule_set_load_seconds", "wall time of a rule set's last load", ...m.rules.map((r) => ({ labels: { home: r.home, level: r.level }, value: r.seconds })));
  add("log_lag_bytes", "bytes of a followed log not yet classified", ...(f.logs ?? []).map((l) => ({ labels: { path: l.path }, value: l.lagBytes })));
  add("log_missing", "1 when a followed log does not exist", ...(f.logs ?? []).map((l) => ({ labels: { path: l.path }, value: l.missing ? 1 : 0 })));
  const states = new Map<string, number>();
  for (const p of f.processes ?? []) states.set(p.state, (states.get(p.state) ?? 0) + 1);
  add("pidfiles", "watched PID files, by state", ...[...states].sort().map(([state, value]) => ({ labels: { state }, value })));
  add("database_size_bytes", "size of the database with its write-ahead log", { value: m.databaseBytes });

  let out = "";
  for (const fam of families) {
    out += `# HELP ${fam.name} ${fam.help}\n# TYPE ${fam.name} gauge\n`;
    for (const s of fam.samples) {
      const labels = s.labels ? `{${Object.entries(s.labels).map(([k, v]) => `${k}="${labelValue(v)}"`).join(",")}}` : "";
      out += `${fam.name}${labels} ${formatValue(s.value)}\n`;
    }
  }
  return out;
}
