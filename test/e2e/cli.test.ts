// End-to-end tests of the compiled binary: modes, exit codes, database handling.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, ensureBinary, run, tempDir, writeConfig } from "../support/binary.ts";

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ensureBinary();
  ({ dir, cleanup } = tempDir());
});
afterAll(() => cleanup());

function conf(name: string, body: string): string {
  return writeConfig(dir, body, name);
}

describe("CLI", () => {
  test("--version and --help exit 0", () => {
    const v = run(["--version"]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^integrityd \d+\.\d+\.\d+\n$/);
    const h = run(["--help"]);
    expect(h.code).toBe(0);
    for (const opt of ["--init-db", "--check-config", "--scan-once", "--test-rules", "--status", "--stdout", "--config", "--version", "--help"]) {
      expect(h.stdout).toContain(opt);
    }
  });

  test("usage errors exit 64", () => {
    expect(run(["--no-such-option"]).code).toBe(64);
    expect(run(["--init-db", "--status"]).code).toBe(64);
    expect(run(["stray-argument"]).code).toBe(64);
    expect(run(["--level", "server"]).code).toBe(64);
    expect(run(["--test-rules", "--level", "paranoia"]).code).toBe(64);
  });

  test("usage errors are one line in our words: no parser internals, balanced quotes", () => {
    expect(run(["--bogus"]).stderr).toBe("error: unknown option '--bogus'; see --help\n");
    expect(run(["-x"]).stderr).toBe("error: unknown option '-x'; see --help\n");
    expect(run(["--check-config", "--config"]).stderr).toBe("error: option '--config' needs a value; see --help\n");
  });

  test("--check-config --quiet prints problems only", () => {
    const p = conf("quiet.conf", `database = ${join(dir, "q.sqlite")}\nemail = none\n`);
    const r = run(["--check-config", "--quiet", "--config", p]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(run(["--check-config", "-q", "--config", conf("quiet-bad.conf", "bogus = 1\n")]).code).toBe(78);
  });

  test("--example-config prints a config that --check-config accepts", () => {
    const ex = run(["--example-config"]);
    expect(ex.code).toBe(0);
    const p = conf("example.conf", ex.stdout);
    const c = run(["--check-config", "--config", p]);
    expect(c.stderr).toBe("");
    expect(c.code).toBe(0);
    expect(c.stdout).toContain("area = /etc\n");
    expect(c.stdout).toContain("byterate = 262144\n");
    expect(c.stdout).toMatch(/^# mail: (handed to \/usr\/sbin\/sendmail|SMTP to localhost:25)/m);
  });

  test("--check-config lists every error with FILE:LINE and exits 78", () => {
    const p = conf("bad.conf", "filerate = 0\nbogus = 1\narea = relative\n");
    const r = run(["--check-config", "--config", p]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(`${p}:1: filerate: must not be zero`);
    expect(r.stderr).toContain(`${p}:2: unknown key 'bogus'`);
    expect(r.stderr).toContain(`${p}:3: area: 'relative' is not an absolute path`);
    expect(r.stdout).toBe("");
  });

  test("--check-config calls a missing area an error; the daemon warns and mails it instead", () => {
    const p = conf("typo.conf", `database = ${join(dir, "typo.sqlite")}\nemail = none\narea = ${join(dir, "no-such-dir")}\n`);
    const r = run(["--check-config", "--config", p]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(`area ${join(dir, "no-such-dir")} does not exist or is not a directory`);
    const init = run(["--init-db", "--config", p]);
    expect(init.code).toBe(0);
    expect(init.stderr).toContain("warning: ");
  });

  test("a missing config file exits 78 with a message", () => {
    const r = run(["--check-config", "--config", join(dir, "nope.conf")]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("nope.conf: cannot read config");
  });

  test("a config readable by others gets a warning", () => {
    const p = conf("loose.conf", "email = none\n");
    chmodSync(p, 0o644);
    const r = run(["--check-config", "--config", p]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("readable by group or others");
  });

  test("--init-db creates 0700 directory and 0600 file, and is idempotent", () => {
    const db = join(dir, "state", "sub", "i.sqlite");
    const p = conf("init.conf", `database = ${db}\nemail = none\n`);
    const a = run(["--init-db", "--config", p]);
    expect(a.code).toBe(0);
    expect(a.stdout).toContain("created");
    expect(statSync(join(dir, "state", "sub")).mode & 0o777).toBe(0o700);
    expect(statSync(db).mode & 0o777).toBe(0o600);
    const dump = () => {
      const d = new Database(db, { readonly: true });
      const rows = d.query("SELECT type, name, sql FROM sqlite_master ORDER BY name").all();
      const meta = d.query("SELECT key FROM meta ORDER BY key").all();
      d.close();
      return JSON.stringify([rows, meta]);
    };
    const first = dump();
    const b = run(["--init-db", "--config", p]);
    expect(b.code).toBe(0);
    expect(b.stdout).toContain("up to date");
    expect(dump()).toBe(first);
  });

  test("--init-db refuses a foreign SQLite file and a non-database file with exit 74", () => {
    const foreign = join(dir, "foreign.sqlite");
    const d = new Database(foreign);
    d.exec("CREATE TABLE customers (id INTEGER)");
    d.close();
    const r = run(["--init-db", "--config", conf("foreign.conf", `database = ${foreign}\n`)]);
    expect(r.code).toBe(74);
    expect(r.stderr).toContain("not an integrityd database");
    expect(r.stderr).not.toContain("    at "); // no stack trace
    const d2 = new Database(foreign, { readonly: true });
    expect(d2.query("SELECT name FROM sqlite_master").all()).toEqual([{ name: "customers" }]); // untouched
    d2.close();

    const junk = join(dir, "junk.sqlite");
    writeFileSync(junk, "this is not a database at all, just text ".repeat(200));
    const r2 = run(["--init-db", "--config", conf("junk.conf", `database = ${junk}\n`)]);
    expect(r2.code).toBe(74);
    expect(r2.stderr).toContain(junk);
    expect(r2.stderr.trim().split("\n").length).toBe(1);
  });

  test("--init-db in an unwritable location exits 74", () => {
    const ro = join(dir, "ro");
    mkdirSync(ro);
    const r = run(["--init-db", "--config", conf("ro.conf", `database = /proc/integrityd-test/db.sqlite\n`)]);
    expect(r.code).toBe(74);
    expect(r.stderr).toContain("/proc/integrityd-test/db.sqlite");
  });

  test("the daemon refuses to start without a database (exit 78)", () => {
    const p = conf("nodb.conf", `database = ${join(dir, "missing", "db.sqlite")}\nemail = none\n`);
    const r = run(["--config", p]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("integrityd --init-db");
    expect(existsSync(join(dir, "missing", "db.sqlite"))).toBe(false);
  });

  test("the daemon refuses a corrupt database (exit 74, one line)", () => {
    const db = join(dir, "corrupt.sqlite");
    const p = conf("corrupt.conf", `database = ${db}\nemail = none\n`);
    expect(run(["--init-db", "--config", p]).code).toBe(0);
    const bytes = readFileSync(db);
    bytes.fill(0x41, 0, 100); // destroy the header
    writeFileSync(db, bytes);
    const r = run(["--config", p]);
    expect(r.code).toBe(74);
    expect(r.stderr).toContain(db);
    expect(r.stderr.trim().split("\n").length).toBe(1);
  });

  test("the daemon starts on a valid database and stops on SIGTERM with exit 0", async () => {
    const p = conf("run.conf", `database = ${join(dir, "run.sqlite")}\nemail = none\n`);
    expect(run(["--init-db", "--config", p]).code).toBe(0);
    const proc = Bun.spawn([BIN, "--config", p], { stdout: "pipe", stderr: "pipe" });
    const err = proc.stderr.getReader();
    let text = "";
    while (!text.includes("started")) {
      const { value, done } = await err.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toContain("integrityd started");
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  });

  test("the binary copied alone into an empty directory runs --version and --init-db", () => {
    const { dir: empty, cleanup: c2 } = tempDir("integrityd-alone-");
    try {
      const bin = join(empty, "integrityd");
      copyFileSync(BIN, bin);
      chmodSync(bin, 0o755);
      const v = run(["--version"], { bin, cwd: empty, env: { PATH: "/usr/bin:/bin" } });
      expect(v.code).toBe(0);
      const p = writeConfig(empty, `database = ${join(empty, "db", "x.sqlite")}\n`);
      const i = run(["--init-db", "--config", p], { bin, cwd: empty });
      expect(i.code).toBe(0);
      expect(existsSync(join(empty, "db", "x.sqlite"))).toBe(true);
      const e = run(["--example-config"], { bin, cwd: empty });
      expect(e.stdout).toContain("logrules = server:/etc/logcheck");
    } finally {
      c2();
    }
  });
});
