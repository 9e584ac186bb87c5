// The command line described once: `--help`, the man page (`--print-man`,
// installed as integrityd(8)) and the bash completion (`--print-completion`)
// are all made from these tables, so they cannot disagree.
import { DEFAULT_CONFIG_PATH } from "../config/load.ts";

export interface Flag {
  /** "--name" (and "-x, --name" when it has a short form) */
  name: string;
  short?: string;
  /** the value's placeholder, when the flag takes one */
  arg?: string;
  /** optional positional argument (shown in --help only) */
  positional?: string;
  text: string;
}

export const MODE_FLAGS: Flag[] = [
  { name: "--init-db", text: "create or upgrade the database named in the config" },
  { name: "--check-config", text: "validate the config, print it with defaults filled in, and say how mail leaves" },
  { name: "--scan-once", text: "one full-speed integrity pass, print changes, exit 1|2|4 bitmask (new, deleted, changed)" },
  { name: "--test-rules", positional: "[FILE|-]", text: "classify log lines like logcheck and print the report" },
  { name: "--status", text: "a summary, then the details, read-only (safe while the daemon runs)" },
  { name: "--example-config", text: `print the documented example config (for ${DEFAULT_CONFIG_PATH})` },
  { name: "--install", text: "set up this host: systemd unit, example config (if none), database" },
  { name: "--uninstall", text: "remove the unit (stop and disable it); --purge also config and database" },
  { name: "--verify-packages", text: "manifests for installed packages from cached .debs and signed indexes (else dpkg's MD5 lists); print the counts" },
  { name: "--apt-hook", text: "apt's DPkg::Pre-Install-Pkgs hook (protocol 3, set up by --install): capture each .deb's evidence" },
  { name: "--verify-chain", text: "check a copy of the database (and the mails) for tampering with the first chain key; exit 1 when tampered" },
  { name: "--print-unit", text: "print the systemd unit for this binary" },
  { name: "--print-man", text: "print this manual page (roff)" },
  { name: "--print-completion", text: "print the bash completion script" },
  { name: "--print-schema", text: "print the JSON Schema of the events in the JSON log and in RFC 5424 syslog" },
  { name: "--version", text: "print the version" },
  { name: "--help", short: "-h", text: "print this help" },
];

export const OPTION_FLAGS: Flag[] = [
  { name: "--config", short: "-c", arg: "FILE", text: `config file (default ${DEFAULT_CONFIG_PATH})` },
  { name: "--stdout", text: "also print every report to stdout" },
  { name: "--rules", arg: "DIR", text: "--test-rules: logcheck rules home (default: the config's logrules, else the embedded rules)" },
  { name: "--level", arg: "LEVEL", text: "--test-rules: paranoid, server or workstation (default server)" },
  { name: "--explain", text: "--test-rules: show which rule FILE:LINE decided each line" },
  { name: "--list-risky", text: "--test-rules --explain: also list every rule on a slower engine (risky for backtracking)" },
  { name: "--quiet", short: "-q", text: "--check-config: print problems only, not the configuration" },
  { name: "--json", text: "--status: the figures as one JSON object (stable field names)" },
  { name: "--root", arg: "DIR", text: "--install/--uninstall: into a staging tree instead of /" },
  { name: "--purge", text: "--uninstall: remove the config and the database too" },
  { name: "--key", arg: "KEY", text: "--verify-chain: the first chain key --init-db printed (64 hex digits; - reads it from stdin)" },
  { name: "--mails", arg: "FILE", text: "--verify-chain: the mails received from the host, as an mbox (report gaps, heads, heartbeats)" },
  { name: "--database", arg: "FILE", text: "--verify-chain: the copy of the database to check (default: the config's database)" },
  { name: "--verbose", short: "-v", text: "debug diagnostics on stderr" },
];

export const EXIT_CODES: [string, string][] = [
  ["0", "success (--scan-once: no change; --test-rules: nothing to report)"],
  ["1, 2, 4", "--scan-once: new, deleted, changed entries (added up); --test-rules: 1 when something is reported; --verify-chain: 1 when tampering is found"],
  ["64", "usage error"],
  ["74", "I/O error: the database is missing its file, corrupt, foreign or read-only"],
  ["75", "the database is in use by another integrityd"],
  ["78", "configuration error"],
];

const label = (f: Flag) => `${f.short ? `${f.short}, ` : ""}${f.name}${f.arg ? ` ${f.arg}` : ""}${f.positional ? ` ${f.positional}` : ""}`;

export function helpText(): string {
  const rows = (flags: Flag[]) => flags.map((f) => `  ${label(f).padEnd(24)} ${f.text}`).join("\n");
  return `usage: integrityd [MODE] [OPTIONS]

Modes (at most one; without one, the daemon runs in the foreground, as systemd runs it):
${rows(MODE_FLAGS)}

Options:
${rows(OPTION_FLAGS)}

Exit codes: 0 ok; 1|2|4 --scan-once found new|deleted|changed entries; 1 --verify-chain
found tampering; 64 usage;
74 I/O error (database); 75 database in use by another integrityd; 78 configuration.
`;
}

/** roff for man(7): integrityd(8). */
export function manPage(version: string): string {
  const esc = (s: string) => s.replace(/\\/g, "\\e").replace(/^([.'])/gm, "\\&$1").replace(/-/g, "\\-");
  const items = (flags: Flag[]) =>
    flags.map((f) => `.TP\n.B ${esc(label(f))}\n${esc(f.text)}`).join("\n");
  return `.TH INTEGRITYD 8 "" "integrityd ${esc(version)}" "System Administration"
.SH NAME
integrityd \\- host intrusion detection: file integrity, log alerts, PID watch
.SH SYNOPSIS
.B integrityd
[\\fIMODE\\fR] [\\fIOPTIONS\\fR]
.SH DESCRIPTION
Without a mode, integrityd runs as a daemon in the foreground (what its systemd
unit runs): it trickle\\-checks the integrity of the configured areas in a
shuffled order at a limited rate, follows logs and reports lines with
logcheck's verdicts within seconds, watches PID files, and reports by pooled
e\\-mail, a JSON log and syslog. Its state is one SQLite database.
.SH MODES
${items(MODE_FLAGS)}
.SH OPTIONS
${items(OPTION_FLAGS)}
.SH EXIT STATUS
${EXIT_CODES.map(([c, t]) => `.TP\n.B ${esc(c)}\n${esc(t)}`).join("\n")}
.SH FILES
.TP
.I ${esc(DEFAULT_CONFIG_PATH)}
the configuration (key = value; \\fBintegrityd \\-\\-example\\-config\\fR prints a documented one)
.TP
.I /var/lib/integrityd/integrityd.sqlite
the database (state, queued events, history)
.TP
.I /etc/logcheck
logcheck's rule tree, used for the logs
.SH SIGNALS
SIGHUP reloads the configuration and rules; SIGTERM and SIGINT stop the daemon
after delivering what is pending.
.SH SEE ALSO
.BR logcheck (8),
.BR aide (1),
.BR systemctl (1)
`;
}

/** A bash completion script for integrityd. */
export function bashCompletion(): string {
  const all = [...MODE_FLAGS, ...OPTION_FLAGS];
  const words = all.flatMap((f) => [f.name, ...(f.short ? [f.short] : [])]).join(" ");
  const fileArgs = all.filter((f) => f.arg === "FILE").flatMap((f) => [f.name, ...(f.short ? [f.short] : [])]).join("|");
  const dirArgs = all.filter((f) => f.arg === "DIR").map((f) => f.name).join("|");
  return `# bash completion for integrityd (made by integrityd --print-completion)
_integrityd() {
  local cur prev
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
    ${fileArgs}) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
    ${dirArgs}) COMPREPLY=( $(compgen -d -- "$cur") ); return ;;
    --level) COMPREPLY=( $(compgen -W "paranoid server workstation" -- "$cur") ); return ;;
  esac
  COMPREPLY=( $(compgen -W "${words}" -- "$cur") )
}
complete -F _integrityd integrityd
`;
}
