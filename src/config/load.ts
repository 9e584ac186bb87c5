// Reading the configuration file: the I/O edge around parseConfig(). What the
// config makes root read or run must be trusted (trust.ts): the config file
// itself, the `sendmail` program and every rules home; anything that a user
// other than root could change is an error (exit 78 at start; on SIGHUP the
// running configuration is kept).
import { X509Certificate } from "node:crypto";
import { lstatSync, readFileSync, realpathSync, statSync } from "node:fs";
import { formatProblem, parseConfig, type ParseResult } from "./config.ts";
import { untrustedPath, untrustedRulesHome } from "./trust.ts";

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
/**
 * Areas that do not exist. The daemon warns and mails them (an area may be on
 * a file system not mounted yet); --check-config (`strict`) calls them errors:
 * a typo must not leave a tree unwatched.
 */
export function missingAreas(areas: readonly string[]): string[] {
  return areas.filter((a) => {
    try {
      return !lstatSync(a).isDirectory();
    } catch {
      return true;
    }
  });
}

export function loadConfig(path: string, opts: { strict?: boolean } = {}): ParseResult {
  let text: string;
  let mode = 0;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError([`${path}: cannot read config: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`]);
  }
  const res = parseConfig(text, path);
  const untrusted = untrustedPath(absolute(path));
  if (untrusted) {
    res.errors.unshift({ file: path, line: 0, message: `refused: ${untrusted}; only root may be able to change what integrityd reads as root` });
  } else if (mode & 0o044) {
    res.warnings.unshift({
      file: path, line: 0,
      message: `readable by group or others (mode ${(mode & 0o777).toString(8).padStart(4, "0")}): it tells an intruder what is watched; chmod 600 it`,
    });
  }
  // no transport named: the local MTA's sendmail when there is one (nullmailer,
  // msmtp, ssmtp have it and no listener), else SMTP to localhost:25
  if (!res.keys.has("smtp") && !res.keys.has("sendmail") && res.config.email.length > 0 && isProgram(LOCAL_SENDMAIL)) res.config.sendmail = LOCAL_SENDMAIL;
  if (res.config.sendmail !== "") {
    const why = untrustedPath(res.config.sendmail);
    if (why) res.errors.push({ file: path, line: 0, key: "sendmail", message: `sendmail ${res.config.sendmail} refused: ${why}; integrityd runs it as root` });
  }
  resolveAreaLinks(res, path);
  for (const a of missingAreas(res.config.areas)) {
    const p = { file: path, line: 0, key: "area", message: `area ${a} does not exist or is not a directory: nothing under it is checked` };
    if (opts.strict) res.errors.push(p);
    else res.warnings.push(p);
  }
  if (res.config.smtptls.startsWith("/")) {
    const why = untrustedPath(res.config.smtptls);
    if (why) res.errors.push({ file: path, line: 0, key: "smtptls", message: `smtptls ${res.config.smtptls} refused: ${why}` });
    else if (pinnedFingerprint(res.config.smtptls) === null) res.errors.push({ file: path, line: 0, key: "smtptls", message: `smtptls ${res.config.smtptls}: not a PEM certificate` });
  }
  for (const home of new Set([...res.config.logs, ...res.config.journals].map((l) => l.rules))) {
    const why = home === "builtin" ? null : untrustedRulesHome(home);
    if (why) res.errors.push({ file: path, line: 0, key: "logrules", message: `rules home ${home} refused: ${why}; whoever can change it can silence alerts` });
  }
  if (res.errors.length) throw new ConfigError(res.errors.map(formatProblem));
  return res;
}

/**
 * An `area` that is itself a symbolic link (/bin on a merged-/usr system) is
 * resolved once, here, and the tree it leads to is checked, with a warning
 * that says so — when only root could have made the link lead there
 * (trust.ts); otherwise it is an error. Never a tree of one link, silently.
 */
function resolveAreaLinks(res: ParseResult, file: string): void {
  res.config.areas = res.config.areas.map((area) => {
    try {
      if (!lstatSync(area).isSymbolicLink()) return area;
    } catch {
      return area; // missing: reported where areas are checked
    }
    const why = untrustedPath(area);
    if (why) {
      res.errors.push({ file, line: 0, key: "area", message: `area ${area} is a symbolic link that could be pointed elsewhere: ${why}` });
      return area;
    }
    const real = realpathSync(area);
    res.warnings.push({ file, line: 0, key: "area", message: `area ${area} is a symbolic link to ${real}; checking ${real}` });
    return real;
  });
}

export const LOCAL_SENDMAIL = "/usr/sbin/sendmail";

/** The SHA-256 fingerprint of a pinned certificate file (AB:CD:...), or null when it is none. */
export function pinnedFingerprint(file: string): string | null {
  try {
    return new X509Certificate(readFileSync(file)).fingerprint256;
  } catch {
    return null;
  }
}

function isProgram(p: string): boolean {
  try {
    const st = statSync(p);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

function absolute(p: string): string {
  return p.startsWith("/") ? p : `${process.cwd()}/${p}`;
}

export function formatWarning(p: { file: string; line: number; message: string }): string {
  return p.line ? `${p.file}:${p.line}: ${p.message}` : `${p.file}: ${p.message}`;
}
