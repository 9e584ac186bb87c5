// `--install`, `--uninstall`, `--print-unit`: set up a host from the binary
// alone (the unit and the example config are embedded in it).
//
// --install, idempotent: the apt hook (APT_HOOK_PATH: package evidence
// captured before dpkg unpacks, src/packages/hook.ts) where apt is; the systemd unit to /etc/systemd/system (its
// ExecStart naming this binary), the manual page integrityd(8) and the bash
// completion under the binary's prefix (share/man, share/bash-completion), /etc/integrityd.conf from the example when
// there is none (0600; an existing one is never touched), the database
// (--init-db), and `systemctl daemon-reload` when systemd runs. It does not
// enable or start the service: the admin edits the config first, and the
// last lines say what to run.
// --uninstall: stops and disables the service when systemd runs, removes the
// unit; the config and the database stay unless --purge.
// `root` (--root DIR) installs into a staging tree instead of / (packaging,
// tests): systemctl is not run then.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ETC } from "../embedded.ts";

export const UNIT_PATH = "/etc/systemd/system/integrityd.service";

/** The embedded unit with ExecStart naming `binary`. */
export function unitText(binary: string): string {
  return ETC["integrityd.service"].replaceAll("@SBINDIR@/integrityd", binary).replaceAll("@SBINDIR@", dirname(binary));
}

export const APT_HOOK_PATH = "/etc/apt/apt.conf.d/80integrityd";

/** The apt configuration that runs `binary --apt-hook` before every dpkg unpack, with protocol version 3. */
export function aptHookText(binary: string, configPath: string, defaultConfig: string): string {
  const cmd = `${binary} --apt-hook${configPath === defaultConfig ? "" : ` --config ${configPath}`}`;
  return `// integrityd (written by integrityd --install): the evidence of every .deb,\n// captured before dpkg unpacks it. It never makes apt fail.\nDPkg::Pre-Install-Pkgs { "${cmd}"; };\nDPkg::Tools::Options::${binary}::Version "3";\n`;
}

export interface InstallSteps {
  /** paths written, kept or removed, in words, one per line */
  done: string[];
  next: string[];
}

function systemdRuns(root: string): boolean {
  return root === "/" && existsSync("/run/systemd/system") && existsSync("/usr/bin/systemctl");
}

function systemctl(args: string[]): string {
  const r = Bun.spawnSync(["/usr/bin/systemctl", ...args], { stdout: "pipe", stderr: "pipe" });
  return r.exitCode === 0 ? "" : r.stderr.toString().trim().split("\n")[0];
}

/** Where the manual and the completion go: beside the binary's prefix (/usr/local/sbin -> /usr/local/share). */
export function docPaths(binary: string): { man: string; completion: string } {
  const prefix = dirname(dirname(binary));
  const share = prefix === "/" ? "/usr/share" : join(prefix, "share");
  return { man: join(share, "man/man8/integrityd.8"), completion: join(share, "bash-completion/completions/integrityd") };
}

function writeIfChanged(path: string, text: string, done: string[]): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  if (existsSync(path) && readFileSync(path, "utf8") === text) done.push(`${path}: up to date`);
  else {
    writeFileSync(path, text, { mode: 0o644 });
    chmodSync(path, 0o644);
    done.push(`${path}: written`);
  }
}

export function install(opts: { root: string; binary: string; configPath: string; initDb: (configFile: string) => string; man: string; completion: string; aptHook?: string }): InstallSteps {
  const at = (p: string) => join(opts.root, p);
  const out: InstallSteps = { done: [], next: [] };
  const unit = at(UNIT_PATH);
  const text = unitText(opts.binary);
  mkdirSync(dirname(unit), { recursive: true, mode: 0o755 });
  if (existsSync(unit) && readFileSync(unit, "utf8") === text) out.done.push(`${unit}: up to date`);
  else {
    writeFileSync(unit, text, { mode: 0o644 });
    chmodSync(unit, 0o644);
    out.done.push(`${unit}: written (ExecStart=${opts.binary})`);
  }
  if (opts.aptHook && (opts.root !== "/" || existsSync("/etc/apt/apt.conf.d"))) writeIfChanged(at(APT_HOOK_PATH), opts.aptHook, out.done);
  const docs = docPaths(opts.binary);
  writeIfChanged(at(docs.man), opts.man, out.done);
  writeIfChanged(at(docs.completion), opts.completion, out.done);
  const conf = at(opts.configPath);
  if (existsSync(conf)) out.done.push(`${conf}: kept as it is`);
  else {
    mkdirSync(dirname(conf), { recursive: true, mode: 0o755 });
    writeFileSync(conf, ETC["integrityd.conf"], { mode: 0o600 });
    chmodSync(conf, 0o600);
    out.done.push(`${conf}: the example configuration, mode 0600 — edit areas, logs, PID files and mail`);
  }
  out.done.push(opts.initDb(conf));
  if (systemdRuns(opts.root)) {
    const err = systemctl(["daemon-reload"]);
    out.done.push(err ? `systemctl daemon-reload failed: ${err}` : "systemctl daemon-reload: done");
  }
  out.next.push(`integrityd --check-config --config ${opts.configPath}`, "systemctl enable --now integrityd");
  return out;
}

export function uninstall(opts: { root: string; binary: string; configPath: string; database: string | null; purge: boolean }): InstallSteps {
  const at = (p: string) => join(opts.root, p);
  const out: InstallSteps = { done: [], next: [] };
  if (systemdRuns(opts.root)) {
    const err = systemctl(["disable", "--now", "integrityd.service"]);
    out.done.push(err ? `systemctl disable --now integrityd: ${err}` : "systemctl disable --now integrityd: done");
  }
  const unit = at(UNIT_PATH);
  if (existsSync(unit)) {
    rmSync(unit);
    out.done.push(`${unit}: removed`);
  } else out.done.push(`${unit}: not there`);
  if (systemdRuns(opts.root)) systemctl(["daemon-reload"]);
  const docs = docPaths(opts.binary);
  for (const p of [at(APT_HOOK_PATH), at(docs.man), at(docs.completion)]) {
    if (existsSync(p)) {
      rmSync(p);
      out.done.push(`${p}: removed`);
    }
  }
  const conf = at(opts.configPath);
  const db = opts.database === null ? null : at(opts.database);
  if (opts.purge) {
    for (const p of [conf, ...(db ? [db, `${db}-wal`, `${db}-shm`, `${db}.lock`, `${db}.chainkey`] : [])]) {
      if (existsSync(p)) {
        rmSync(p);
        out.done.push(`${p}: removed`);
      }
    }
  } else {
    out.done.push(`${conf}: kept`);
    if (db) out.done.push(`${db}: kept (the history of this host; --uninstall --purge removes it)`);
  }
  out.next.push("rm the integrityd binary itself when it is no longer wanted");
  return out;
}
