// Command line: one mode per run, parsed with node:util parseArgs.
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { LEVELS, type Config, type Level } from "../config/config.ts";
import { formatConfig } from "../config/format.ts";
import { bashCompletion, helpText, manPage } from "./help.ts";
import { aptHookText, install, uninstall, unitText } from "./install.ts";
import { join } from "node:path";
import { ConfigError, DEFAULT_CONFIG_PATH, formatWarning, LOCAL_SENDMAIL, loadConfig, pinnedFingerprint } from "../config/load.ts";
import { isLoopback } from "../util/net.ts";
import { initDatabase, openDatabase } from "../db/db.ts";
import { lockDatabase } from "../db/lock.ts";
import { embeddedRules, ETC } from "../embedded.ts";
import { SCHEMA_FILE } from "../report/ecs.ts";
import { EX_CONFIG, EX_OK, EX_USAGE, ExitError } from "../util/exit.ts";
import { diagText, setVerbose, stderrIsJournal } from "../util/log.ts";

/** Diagnostics carry journal priorities when stderr is the journal (util/log.ts). */
const journal = () => stderrIsJournal();
import { VERSION } from "../version.ts";
import { writeAll } from "../util/write.ts";
import { chainKeyPath } from "../chain/open.ts";
import { firstKey } from "../chain/init.ts";

export const HELP = helpText();

const MODES = ["init-db", "check-config", "scan-once", "test-rules", "status", "example-config", "install", "uninstall", "print-unit", "print-man", "print-completion", "print-schema", "version", "help", "apt-hook", "verify-packages", "verify-chain"] as const;
type Mode = (typeof MODES)[number] | "daemon";

export interface Io {
  out: (s: string) => void;
  /** Write a latin1 byte string (log lines) byte for byte. */
  outBytes: (s: string) => void;
  err: (s: string) => void;
}

const stdio: Io = {
  out: (s) => writeAll(1, s),
  outBytes: (s) => writeAll(1, Buffer.from(s, "latin1")),
  err: (s) => writeAll(2, s),
};

function usage(io: Io, msg: string): number {
  io.err(diagText("error", `${msg}; see --help`, journal()));
  return EX_USAGE;
}

/** parseArgs's complaint in our words (its own text names its internals). */
function argError(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const name = /'(-[^']*)'/.exec(err.message ?? "")?.[1] ?? /(--?[\w-]+)/.exec(err.message ?? "")?.[1];
  if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && name) return `unknown option '${name}'`;
  if (err.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && name) return `option '${name.replace(/^-\w, /, "").replace(/ <value>$/, "")}' needs a value`;
  return String(err.message ?? e).split("\n")[0].replace(/'/g, "").trim();
}

/** How mail will leave, in words, for --check-config. */
function mailRoute(c: Config): string {
  if (c.email.length === 0) return "off (email = none)";
  if (c.sendmail !== "") return `handed to ${c.sendmail}${c.sendmail === LOCAL_SENDMAIL ? " (the local MTA's program; set smtp = HOST to use SMTP instead)" : ""}`;
  const host = c.smtp.host;
  const tls = c.smtptls.startsWith("/") ? `STARTTLS with the pinned certificate ${c.smtptls} (SHA-256 ${pinnedFingerprint(c.smtptls)})`
    : c.smtptls === "auto" && isLoopback(host) ? "STARTTLS when offered, certificate not verified (a relay on loopback)"
    : "STARTTLS when offered, certificate verified against the system CA store";
  return `SMTP to ${host.includes(":") ? `[${host}]` : host}:${c.smtp.port}, ${tls}${c.smtpuser && !isLoopback(host) ? "; STARTTLS required (a password is set)" : ""}`;
}

/** Load the config, print its warnings; ConfigError → exit 78 with every error. */
function config(path: string, io: Io, strict = false): Config {
  const res = loadConfig(path, { strict });
  for (const w of res.warnings) io.err(diagText("warning", formatWarning(w), journal()));
  return res.config;
}

export async function main(argv: string[], io: Io = stdio): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: "string", short: "c" },
        stdout: { type: "boolean" },
        rules: { type: "string" },
        level: { type: "string" },
        explain: { type: "boolean" },
        "list-risky": { type: "boolean" },
        verbose: { type: "boolean", short: "v" },
        quiet: { type: "boolean", short: "q" },
        json: { type: "boolean" },
        root: { type: "string" },
        purge: { type: "boolean" },
        install: { type: "boolean" },
        uninstall: { type: "boolean" },
        "print-unit": { type: "boolean" },
        "print-man": { type: "boolean" },
        "print-completion": { type: "boolean" },
        "print-schema": { type: "boolean" },
        "init-db": { type: "boolean" },
        "check-config": { type: "boolean" },
        "scan-once": { type: "boolean" },
        "test-rules": { type: "boolean" },
        status: { type: "boolean" },
        "example-config": { type: "boolean" },
        version: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        "apt-hook": { type: "boolean" },
        "verify-packages": { type: "boolean" },
        "verify-chain": { type: "boolean" },
        key: { type: "string" },
        mails: { type: "string" },
        database: { type: "string" },
      },
    });
  } catch (e) {
    return usage(io, argError(e));
  }
  const v = parsed.values;
  const modes = MODES.filter((m) => v[m]);
  if (modes.length > 1) return usage(io, `choose one mode, not ${modes.map((m) => "--" + m).join(" and ")}`);
  const mode = (modes[0] as Mode | undefined) ?? "daemon";
  if (parsed.positionals.length > (mode === "test-rules" ? 1 : 0)) {
    return usage(io, `unexpected argument '${parsed.positionals[mode === "test-rules" ? 1 : 0]}'`);
  }
  if (mode !== "test-rules" && (v.rules !== undefined || v.level !== undefined || v.explain || v["list-risky"])) {
    return usage(io, "--rules, --level, --explain and --list-risky go with --test-rules");
  }
  if (mode !== "verify-chain" && (v.key !== undefined || v.mails !== undefined || v.database !== undefined)) {
    return usage(io, "--key, --mails and --database go with --verify-chain");
  }
  if (mode === "verify-chain" && v.key === undefined) return usage(io, "--verify-chain needs --key (the first key that --init-db printed)");
  if (v.level !== undefined && !(LEVELS as readonly string[]).includes(v.level)) {
    return usage(io, `--level: expected ${LEVELS.join(", ")}, not '${v.level}'`);
  }
  if (v.verbose) setVerbose(true);
  const configPath = v.config ?? DEFAULT_CONFIG_PATH;

  try {
    switch (mode) {
      case "help":
        io.out(HELP);
        return EX_OK;
      case "version":
        io.out(`integrityd ${VERSION}\n`);
        return EX_OK;
      case "example-config":
        io.out(ETC["integrityd.conf"]);
        return EX_OK;
      case "print-unit":
        io.out(unitText(process.execPath));
        return EX_OK;
      case "print-schema":
        io.out(ETC[SCHEMA_FILE]);
        return EX_OK;
      case "print-man":
        io.out(manPage(VERSION));
        return EX_OK;
      case "print-completion":
        io.out(bashCompletion());
        return EX_OK;
      case "install": {
        const root = v.root ?? "/";
        const steps = install({
          root, binary: process.execPath, configPath, man: manPage(VERSION), completion: bashCompletion(),
          aptHook: aptHookText(process.execPath, configPath, DEFAULT_CONFIG_PATH),
          initDb: (file) => {
            const c = config(file, io);
            const dbPath = join(root, c.database);
            const r = initDatabase(dbPath);
            const chain = firstKey(dbPath, join(root, chainKeyPath(c)));
            return `${dbPath}: ${r.created ? "created" : r.from < r.to ? `upgraded to schema version ${r.to}` : "up to date"}\n${chain}`;
          },
        });
        io.out(`${steps.done.join("\n")}\nnext:\n${steps.next.map((l) => `  ${l}`).join("\n")}\n`);
        return EX_OK;
      }
      case "uninstall": {
        const root = v.root ?? "/";
        let database: string | null = null;
        try {
          database = loadConfig(join(root, configPath)).config.database;
        } catch {
          database = null; // no readable config: only the unit goes
        }
        const steps = uninstall({ root, binary: process.execPath, configPath, database, purge: !!v.purge });
        io.out(`${steps.done.join("\n")}\n`);
        return EX_OK;
      }
      case "check-config": {
        const c = config(configPath, io, true);
        if (!v.quiet) {
          io.out(formatConfig(c, hostname()));
          io.out(`# mail: ${mailRoute(c)}\n`);
        }
        return EX_OK;
      }
      case "init-db": {
        const c = config(configPath, io);
        const r = initDatabase(c.database);
        io.out(
          r.created ? `${c.database}: created (schema version ${r.to})\n`
          : r.from < r.to ? `${c.database}: upgraded from schema version ${r.from} to ${r.to}\n`
          : `${c.database}: up to date (schema version ${r.to})\n`,
        );
        io.out(`${firstKey(c.database, chainKeyPath(c))}\n`);
        return EX_OK;
      }
      case "scan-once": {
        const c = config(configPath, io);
        const { runScanOnce } = await import("../scan/index.ts");
        openDatabase(c.database, { readonly: true }).close(); // a missing or foreign database: 78/74 before the lock
        const lock = lockDatabase(c.database, "--scan-once (stop the daemon first, or use --status)");
        try {
          return await runScanOnce(c, { out: io.out, err: io.err, isTTY: !!process.stderr.isTTY });
        } finally {
          lock.release();
        }
      }
      case "status": {
        const c = config(configPath, io);
        const { statusFacts, statusReport } = await import("./status.ts");
        const db = openDatabase(c.database, { readonly: true });
        try {
          io.out(v.json ? `${JSON.stringify(statusFacts(db, c))}\n` : statusReport(db, c));
        } finally {
          db.close();
        }
        return EX_OK;
      }
      case "test-rules": {
        // Rules: --rules DIR, else the config's first logrules (when a config
        // file exists), else the embedded default tree; level likewise.
        let rulesHome: string | null = v.rules ?? null;
        let level = v.level as Level | undefined;
        let crackingIgnore = false;
        let database: string | null = null; // where the compiled-rules cache may be (rules/cache.ts)
        if (v.config !== undefined || existsSync(configPath)) {
          const c = config(configPath, io);
          crackingIgnore = c.crackingignore;
          database = c.database;
          if (rulesHome === null && c.logs.length) rulesHome = c.logs[0].rules;
          if (level === undefined && c.logs.length) level = c.logs[0].level;
        }
        const { runTestRules } = await import("../rules/testrules.ts");
        return await runTestRules({
          input: parsed.positionals[0] ?? "-",
          rulesHome,
          embedded: embeddedRules(),
          level: level ?? "server",
          crackingIgnore,
          database,
          explain: !!v.explain || !!v["list-risky"],
          listRisky: !!v["list-risky"],
          out: io.outBytes,
          err: io.err,
        });
      }
      case "apt-hook": {
        // never fails apt: every problem is said on stderr, the exit status is 0
        try {
          const stdin = await Bun.stdin.text();
          const { runAptHook } = await import("../packages/hook.ts");
          return await runAptHook(stdin, { err: io.err, now: Date.now, openDb: () => openDatabase(config(configPath, io).database) });
        } catch (e) {
          io.err(`integrityd --apt-hook: ${(e as Error).message ?? String(e)}; package evidence not captured\n`);
          return EX_OK;
        }
      }
      case "verify-packages": {
        const c = config(configPath, io);
        const { runVerifyPackages } = await import("../packages/backfill.ts");
        const db = openDatabase(c.database);
        try {
          return await runVerifyPackages(db, { out: io.out, err: io.err });
        } finally {
          db.close();
        }
      }
      case "verify-chain": {
        const database = v.database ?? config(configPath, io).database;
        const { runVerifyChain } = await import("../chain/verifycli.ts");
        return runVerifyChain({ key: v.key!, database, mails: v.mails, out: io.out });
      }
      case "daemon": {
        const c = config(configPath, io);
        const { runDaemon } = await import("../daemon/daemon.ts");
        return await runDaemon({ config: c, configPath, stdout: !!v.stdout });
      }
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      for (const m of e.messages) io.err(diagText("error", m, journal()));
      return EX_CONFIG;
    }
    if (e instanceof ExitError) {
      io.err(diagText("error", e.message, journal()));
      return e.code;
    }
    throw e;
  }
}

export type { Level };
