// Diagnostics on stderr, one line each, with a level prefix (journald keeps them).
export type LogLevel = "error" | "warning" | "notice" | "info" | "debug";

let verbose = false;
export function setVerbose(v: boolean): void {
  verbose = v;
}

export function diag(level: LogLevel, message: string): void {
  if (level === "debug" && !verbose) return;
  process.stderr.write(`${level}: ${message.replace(/\n/g, "\n  ")}\n`);
}

export const log = {
  error: (m: string) => diag("error", m),
  warn: (m: string) => diag("warning", m),
  notice: (m: string) => diag("notice", m),
  info: (m: string) => diag("info", m),
  debug: (m: string) => diag("debug", m),
};
