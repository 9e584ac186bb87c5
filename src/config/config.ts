// Configuration: the original integrityd `key = value` format, parsed without I/O.
//
// parseConfig() takes the text and the file name (for FILE:LINE messages) and
// returns the effective configuration with every default filled in, plus every
// error and warning at once. Reading the file and deciding what to do with the
// errors is the caller's business (src/config/load.ts).

import { checkGlob } from "../util/glob.ts";
import { closest } from "../util/spelling.ts";
import { type JournalSpec, parseJournalValue } from "./journal.ts";

export type { JournalSpec } from "./journal.ts";

export const LEVELS = ["paranoid", "server", "workstation"] as const;
export type Level = (typeof LEVELS)[number];

/** Hash algorithms of Bun.CryptoHasher that make sense for integrity checking. */
export const HASHES = ["sha256", "sha512", "sha512-256", "blake2b512", "sha3-256"] as const;
export type HashAlgo = (typeof HASHES)[number];

/** One `log = PATH` line with the `logrules` that was in force above it. */
export interface LogSpec {
  path: string;
  level: Level;
  rules: string; // rules home, e.g. /etc/logcheck
  line: number;
}

/** One `pidfile = PATH` line with the `pidct` that was in force above it. */
export interface PidSpec {
  path: string;
  pidct: number; // 100 = the host (original meaning)
  line: number;
}

export interface Config {
  file: string;
  email: string[]; // empty: mail disabled (`email = none`)
  database: string;
  areas: string[];
  excludes: string[];
  logs: LogSpec[];
  /** `journal` lines: systemd journal sources (src/logs/journal/) */
  journals: JournalSpec[];
  pidfiles: PidSpec[];
  reporttime: number;
  reportholdoff: number;
  logreporttime: number;
  logreportholdoff: number;
  byterate: number;
  smallfiles: number;
  filerate: number;
  speedup: number;
  logchecktime: number;
  logruleupdate: number;
  pidchecktime: number;
  hash: HashAlgo;
  crackingignore: boolean;
  mailfrom: string; // "" means integrityd@HOSTNAME, resolved when mail is sent
  smtp: { host: string; port: number };
  smtpuser: string;
  smtppass: string;
  /**
   * STARTTLS certificate check: "auto" (verify against the system CA store,
   * except for a relay on loopback), "verify" (always), or the absolute path
   * of the one certificate to trust (a self-signed relay, pinned).
   */
  smtptls: string;
  sendmail: string; // "" = use SMTP
  jsonlog: string; // "" = off
  syslog: boolean;
  syslogfacility: string;
  /** change hints (scan/hints/): auto, fanotify, inotify or off; hintwatches: the inotify watch budget */
  hints: HintsMode;
  hintwatches: number;
  /** package verdicts on file changes and the apt hook's evidence (src/packages): auto = where dpkg is */
  packages: "auto" | "off";
  /** tamper evidence (src/chain): the key file ("" = beside the database), the epoch and heartbeat periods (s; heartbeat 0 = none) */
  chainkey: string;
  chainepoch: number;
  heartbeat: number;
  /** fleet: syslog message format ("text": a plain line through logger; "rfc5424": the event schema as structured data), its socket, the Prometheus textfile ("" = off) */
  syslogformat: "text" | "rfc5424";
  syslogsocket: string;
  metrics: string;
}

export const HINTS_MODES = ["auto", "fanotify", "inotify", "off"] as const;
export type HintsMode = (typeof HINTS_MODES)[number];

export interface Problem {
  file: string;
  line: number;
  key?: string;
  message: string;
}

export interface ParseResult {
  config: Config;
  errors: Problem[];
  warnings: Problem[];
  /** the keys the file sets (defaults that depend on the host are decided by the loader) */
  keys: ReadonlySet<string>;
}

export const DEFAULT_DATABASE = "/var/lib/integrityd/integrityd.sqlite";
export const DEFAULT_LOGRULES = { level: "server" as Level, rules: "/etc/logcheck" };
export const HOST_PIDCT = 100;

export const SYSLOG_FACILITIES = [
  "auth", "authpriv", "cron", "daemon", "kern", "local0", "local1", "local2", "local3",
  "local4", "local5", "local6", "local7", "lpr", "mail", "news", "security", "syslog", "user", "uucp",
] as const;

export function defaultConfig(file: string): Config {
  return {
    file,
    email: ["root@localhost"],
    database: DEFAULT_DATABASE,
    areas: [],
    excludes: [],
    logs: [],
    journals: [],
    pidfiles: [],
    reporttime: 30,
    reportholdoff: 900,
    logreporttime: 30,
    logreportholdoff: 900,
    byterate: 262144,
    smallfiles: 131072,
    filerate: 1,
    speedup: 20,
    logchecktime: 30,
    logruleupdate: 240,
    pidchecktime: 30,
    hash: "sha256",
    crackingignore: false,
    mailfrom: "",
    smtp: { host: "localhost", port: 25 },
    smtpuser: "",
    smtppass: "",
    smtptls: "auto",
    sendmail: "",
    jsonlog: "",
    syslog: false,
    syslogfacility: "authpriv",
    hints: "auto",
    hintwatches: 8192,
    packages: "auto",
    chainkey: "",
    chainepoch: 900,
    heartbeat: 86400,
    syslogformat: "text",
    syslogsocket: "/dev/log",
    metrics: "",
  };
}

export type NumKey =
  | "reporttime" | "reportholdoff" | "logreporttime" | "logreportholdoff" | "byterate"
  | "smallfiles" | "filerate" | "speedup" | "logchecktime" | "logruleupdate" | "pidchecktime"
  | "hintwatches" | "chainepoch" | "heartbeat";

/** Numeric keys: [minimum allowed, whether zero is an error ("zero rate")]. */
export const NUMERIC: Record<NumKey, { positive: boolean; integer: boolean; min?: number }> = {
  reporttime: { positive: false, integer: false },
  reportholdoff: { positive: false, integer: false },
  logreporttime: { positive: false, integer: false },
  logreportholdoff: { positive: false, integer: false },
  byterate: { positive: true, integer: true },
  smallfiles: { positive: false, integer: true },
  filerate: { positive: true, integer: false },
  speedup: { positive: true, integer: false, min: 1 },
  logchecktime: { positive: true, integer: false },
  logruleupdate: { positive: true, integer: false },
  pidchecktime: { positive: true, integer: false },
  hintwatches: { positive: false, integer: true },
  chainepoch: { positive: true, integer: false },
  heartbeat: { positive: false, integer: false },
};

const PATH_KEYS = ["database", "area", "exclude", "log", "pidfile", "sendmail", "jsonlog", "chainkey"] as const;
const STRING_KEYS = ["email", "mailfrom", "smtp", "smtpuser", "smtppass", "smtptls", "logrules", "pidct", "hash", "crackingignore", "syslog", "syslogfacility", "journal", "hints", "packages", "syslogformat", "syslogsocket", "metrics"] as const;
export const KNOWN_KEYS: readonly string[] = [...Object.keys(NUMERIC), ...PATH_KEYS, ...STRING_KEYS];
const REPEATABLE = new Set(["area", "exclude", "log", "pidfile", "logrules", "pidct", "email", "journal"]);

const NUMBER_RE = /^\d+(\.\d+)?$/;

function parseBool(v: string): boolean | undefined {
  const s = v.toLowerCase();
  if (["yes", "true", "on", "1"].includes(s)) return true;
  if (["no", "false", "off", "0"].includes(s)) return false;
  return undefined;
}

/** Remove a `#` comment that starts the value or follows whitespace. */
function stripComment(line: string): string {
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "#" && (i === 0 || line[i - 1] === " " || line[i - 1] === "\t")) return line.slice(0, i);
  }
  return line;
}

/** Normalise an absolute path: collapse duplicate and trailing slashes (not the root). */
function normPath(p: string): string {
  const s = p.replace(/\/{2,}/g, "/");
  return s.length > 1 ? s.replace(/\/$/, "") : s;
}

/**
 * Recipients are separated by commas; inside one, spaces separate several
 * addresses only when each has an @ ("a@x b@y"). "root@localhost, not an
 * address" gives "root@localhost" and the junk "not an address" (an error),
 * never the recipients "not", "an", "address".
 */
function splitAddresses(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(",").map((p) => p.trim()).filter(Boolean)) {
    const words = part.split(/\s+/);
    if (words.length > 1 && words.every((w) => w.includes("@"))) out.push(...words);
    else out.push(part);
  }
  return out;
}

export function parseConfig(text: string, file: string): ParseResult {
  const config = defaultConfig(file);
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const seen = new Map<string, number>();
  let emailSet = false;
  let logrules = { ...DEFAULT_LOGRULES };
  let pidct = HOST_PIDCT;
  let logreporttimeSet = false;
  let logreportholdoffSet = false;
  const areaLines = new Map<string, number>();
  const keys = new Set<string>();

  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = stripComment(lines[i].replace(/\r$/, "")).trim();
    if (raw === "") continue;
    const err = (message: string, key?: string) => errors.push({ file, line: lineNo, key, message });
    const eq = raw.indexOf("=");
    if (eq < 0) {
      err(`missing '=' (expected 'key = value'): ${JSON.stringify(raw.slice(0, 80))}`);
      continue;
    }
    const key = raw.slice(0, eq).trim().toLowerCase();
    const value = raw.slice(eq + 1).trim();
    if (!KNOWN_KEYS.includes(key)) {
      const near = closest(key, KNOWN_KEYS, 2);
      err(`unknown key '${raw.slice(0, eq).trim()}'${near ? `; did you mean '${near}'?` : ""}`);
      continue;
    }
    if (value === "" && key !== "smtppass" && key !== "smtpuser" && key !== "mailfrom" && key !== "sendmail" && key !== "jsonlog" && key !== "metrics") {
      err(`${key}: empty value`, key);
      continue;
    }
    keys.add(key);
    if (!REPEATABLE.has(key)) {
      const prev = seen.get(key);
      if (prev !== undefined) warnings.push({ file, line: lineNo, key, message: `${key}: set again (line ${prev}); the last value wins` });
      seen.set(key, lineNo);
    }

    if (key in NUMERIC) {
      const k = key as NumKey;
      const spec = NUMERIC[k];
      if (!NUMBER_RE.test(value)) {
        err(`${key}: '${value}' is not a non-negative number`, key);
        continue;
      }
      const n = Number(value);
      if (spec.integer && !Number.isInteger(n)) {
        err(`${key}: '${value}' must be a whole number`, key);
        continue;
      }
      if (spec.positive && n === 0) {
        err(`${key}: must not be zero`, key);
        continue;
      }
      if (spec.min !== undefined && n < spec.min) {
        err(`${key}: must be at least ${spec.min}`, key);
        continue;
      }
      config[k] = n;
      if (k === "logreporttime") logreporttimeSet = true;
      if (k === "logreportholdoff") logreportholdoffSet = true;
      continue;
    }

    if ((PATH_KEYS as readonly string[]).includes(key)) {
      if (value === "") {
        // sendmail / jsonlog may be set empty to switch them off
        if (key === "sendmail") config.sendmail = "";
        if (key === "jsonlog") config.jsonlog = "";
        continue;
      }
      if (!value.startsWith("/")) {
        err(`${key}: '${value}' is not an absolute path`, key);
        continue;
      }
      const p = normPath(value);
      switch (key) {
        case "database": config.database = p; break;
        case "area": {
          const same = areaLines.get(p);
          if (same !== undefined) err(`area: ${p} is given twice (line ${same} and here)`, key);
          else {
            areaLines.set(p, lineNo);
            config.areas.push(p);
          }
          break;
        }
        case "exclude": {
          const bad = /[*?[]/.test(p) ? checkGlob(p) : null; // the globs of scan/exclude.ts
          if (bad) err(`exclude: ${bad}`, key);
          else config.excludes.push(p);
          break;
        }
        case "log": config.logs.push({ path: p, level: logrules.level, rules: logrules.rules, line: lineNo }); break;
        case "pidfile": config.pidfiles.push({ path: p, pidct, line: lineNo }); break;
        case "sendmail": config.sendmail = p; break;
        case "jsonlog": config.jsonlog = p; break;
        case "chainkey": config.chainkey = p; break;
      }
      continue;
    }

    switch (key) {
      case "email": {
        if (!emailSet) config.email = [];
        emailSet = true;
        if (value.toLowerCase() === "none") {
          config.email = [];
          break;
        }
        for (const addr of splitAddresses(value)) {
          if (!/^[^\s@<>()",;:\\]+@[A-Za-z0-9.-]+$/.test(addr) && !/^[A-Za-z0-9._-]+$/.test(addr)) {
            err(`email: '${addr}' is not a mail address`, key);
          } else config.email.push(addr);
        }
        break;
      }
      case "mailfrom":
        if (value !== "" && !/^[^\s@<>()",;:\\]+@[A-Za-z0-9.-]+$/.test(value)) err(`mailfrom: '${value}' is not a mail address`, key);
        else config.mailfrom = value;
        break;
      case "smtp": {
        const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(value);
        const port = m?.[2] === undefined ? 25 : Number(m[2]);
        if (!m || port < 1 || port > 65535) err(`smtp: '${value}' is not HOST[:PORT]`, key);
        else config.smtp = { host: m[1].replace(/^\[|\]$/g, ""), port };
        break;
      }
      case "smtpuser": config.smtpuser = value; break;
      case "smtppass": config.smtppass = value; break;
      case "smtptls":
        if (value === "auto" || value === "verify" || value.startsWith("/")) config.smtptls = value === "auto" || value === "verify" ? value : normPath(value);
        else err(`smtptls: '${value}' is not auto, verify or the absolute path of a certificate`, key);
        break;
      case "logrules": {
        const colon = value.indexOf(":");
        let level: string = DEFAULT_LOGRULES.level;
        let dir = value;
        if (!value.startsWith("/") && colon > 0) {
          level = value.slice(0, colon).trim().toLowerCase();
          dir = value.slice(colon + 1).trim();
        }
        if (!(LEVELS as readonly string[]).includes(level)) {
          err(`logrules: unknown level '${level}' (expected ${LEVELS.join(", ")})`, key);
          break;
        }
        if (!dir.startsWith("/") && dir !== "builtin") {
          err(`logrules: '${dir}' is not an absolute path (or builtin, for the embedded rules)`, key);
          break;
        }
        logrules = { level: level as Level, rules: dir === "builtin" ? dir : normPath(dir) };
        break;
      }
      case "journal": {
        const j = parseJournalValue(value, logrules, lineNo);
        if (typeof j === "string") err(j, key);
        else if (config.journals.some((o) => o.source === j.source)) err(`journal: '${j.source}' is given twice`, key);
        else config.journals.push(j);
        break;
      }
      case "pidct":
        if (!/^\d+$/.test(value)) err(`pidct: '${value}' is not a non-negative whole number`, key);
        else pidct = Number(value);
        break;
      case "hash":
        if (!(HASHES as readonly string[]).includes(value.toLowerCase())) err(`hash: unknown algorithm '${value}' (expected ${HASHES.join(", ")})`, key);
        else config.hash = value.toLowerCase() as HashAlgo;
        break;
      case "crackingignore":
      case "syslog": {
        const b = parseBool(value);
        if (b === undefined) err(`${key}: '${value}' is not yes or no`, key);
        else config[key] = b;
        break;
      }
      case "syslogfacility":
        if (!(SYSLOG_FACILITIES as readonly string[]).includes(value.toLowerCase())) err(`syslogfacility: unknown facility '${value}'`, key);
        else config.syslogfacility = value.toLowerCase();
        break;
      case "hints":
        if (!(HINTS_MODES as readonly string[]).includes(value.toLowerCase())) err(`hints: '${value}' is not ${HINTS_MODES.join(", ")}`, key);
        else config.hints = value.toLowerCase() as HintsMode;
        break;
      case "packages":
        if (value.toLowerCase() !== "auto" && value.toLowerCase() !== "off") err(`packages: '${value}' is not auto or off`, key);
        else config.packages = value.toLowerCase() as "auto" | "off";
        break;
      case "syslogformat":
        if (value !== "text" && value !== "rfc5424") err(`syslogformat: '${value}' is not text or rfc5424`, key);
        else config.syslogformat = value;
        break;
      case "syslogsocket":
      case "metrics":
        if (key === "metrics" && value === "") config.metrics = "";
        else if (!value.startsWith("/")) err(`${key}: '${value}' is not an absolute path`, key);
        else config[key] = normPath(value);
        break;
    }
  }
  for (const [inner, line] of areaLines) {
    for (const [outer] of areaLines) {
      if (outer !== inner && (outer === "/" || inner.startsWith(`${outer}/`))) {
        warnings.push({ file, line, key: "area", message: `area: ${inner} lies inside area ${outer}; it is checked as part of it` });
        break;
      }
    }
  }
  if (!logreporttimeSet) config.logreporttime = config.reporttime;
  if (!logreportholdoffSet) config.logreportholdoff = config.reportholdoff;
  if (config.sendmail !== "" && seen.has("smtp")) {
    warnings.push({ file, line: seen.get("smtp")!, key: "smtp", message: "smtp: ignored because sendmail is set" });
  }
  return { config, errors, warnings, keys };
}

export function formatProblem(p: Problem): string {
  return p.line ? `${p.file}:${p.line}: ${p.message}` : `${p.file}: ${p.message}`;
}
