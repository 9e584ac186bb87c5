// Diagnostics on stderr, one line each, with a level prefix. Under systemd,
// when stderr is the journal stream (JOURNAL_STREAM names its device and
// inode, sd-daemon(3)), every line also starts with its syslog priority
// "<N>", which journald turns into the entry's priority: `journalctl -p err`
// then finds the errors.
import { fstatSync } from "node:fs";

export type LogLevel = "error" | "warning" | "notice" | "info" | "debug";

const PRIORITY: Record<LogLevel, number> = { error: 3, warning: 4, notice: 5, info: 6, debug: 7 };

let verbose = false;
export function setVerbose(v: boolean): void {
  verbose = v;
}

/** True when fd 2 is the journal stream systemd handed us ("DEV:INODE" in JOURNAL_STREAM). */
export function stderrIsJournal(env: Record<string, string | undefined> = process.env): boolean {
  const js = env.JOURNAL_STREAM;
  if (!js) return false;
  const m = /^(\d+):(\d+)$/.exec(js);
  if (!m) return false;
  try {
    const st = fstatSync(2);
    return String(st.dev) === m[1] && String(st.ino) === m[2];
  } catch {
    return false;
  }
}

let journal: boolean | null = null;

/** The text of one diagnostic: every line prefixed (continuation lines indented). */
export function diagText(level: LogLevel, message: string, toJournal: boolean): string {
  const lines = `${level}: ${message}`.split("\n").map((l, i) => (i === 0 ? l : `  ${l}`));
  return `${lines.map((l) => (toJournal ? `<${PRIORITY[level]}>${l}` : l)).join("\n")}\n`;
}

export function diag(level: LogLevel, message: string): void {
  if (level === "debug" && !verbose) return;
  journal ??= stderrIsJournal();
  process.stderr.write(diagText(level, message, journal));
}

export const log = {
  error: (m: string) => diag("error", m),
  warn: (m: string) => diag("warning", m),
  notice: (m: string) => diag("notice", m),
  info: (m: string) => diag("info", m),
  debug: (m: string) => diag("debug", m),
};
