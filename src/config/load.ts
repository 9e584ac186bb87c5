// Reading the configuration file: the I/O edge around parseConfig().
import { readFileSync, statSync } from "node:fs";
import { formatProblem, parseConfig, type ParseResult } from "./config.ts";

export const DEFAULT_CONFIG_PATH = "/etc/integrityd.conf";

export class ConfigError extends Error {
  constructor(public readonly messages: string[]) {
    super(messages.join("\n"));
  }
}

/**
 * Read and parse a config file. Throws ConfigError listing every error (exit 78).
 * Warnings (including a config readable by group or others) are returned, not printed.
 */
export function loadConfig(path: string): ParseResult {
  let text: string;
  let mode = 0;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError([`${path}: cannot read config: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`]);
  }
  const res = parseConfig(text, path);
  if (mode & 0o077) {
    res.warnings.unshift({
      file: path, line: 0,
      message: `readable by group or others (mode ${(mode & 0o777).toString(8).padStart(4, "0")}): it tells an intruder what is watched; chmod 600 it`,
    });
  }
  if (res.errors.length) throw new ConfigError(res.errors.map(formatProblem));
  return res;
}

export function formatWarning(p: { file: string; line: number; message: string }): string {
  return p.line ? `${p.file}:${p.line}: ${p.message}` : `${p.file}: ${p.message}`;
}
