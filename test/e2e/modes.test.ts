// The modes of the compiled binary (--scan-once, --test-rules, --status, ...), end to end.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, run, tempDir, writeConfig } from "../support/binary.ts";

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir("integrityd-modes-")));
afterAll(() => cleanup());

test("--scan-once: baseline exits 0, then the AIDE-style bitmask of new, deleted and changed", () => {
  const area = join(dir, "area");
  mkdirSync(area);
  writeFileSync(join(area, "a"), "one\n");
  writeFileSync(join(area, "b"), "two\n");
  const conf = writeConfig(dir, `database = ${join(dir, "scan.sqlite")}\nemail = none\narea = ${area}\n`, "scan.conf");
  expect(run(["--init-db", "--config", conf]).code).toBe(0);
  const first = run(["--scan-once", "--config", conf]);
  expect(first.code).toBe(0);
  expect(first.stdout).toContain("Baseline: recorded");
  expect(run(["--scan-once", "--config", conf]).code).toBe(0);
  writeFileSync(join(area, "a"), "changed\n");
  rmSync(join(area, "b"));
  writeFileSync(join(area, "c\nnewline"), "new\n");
  const r = run(["--scan-once", "--config", conf]);
  expect(r.code).toBe(1 | 2 | 4);
  expect(r.stdout).toContain(`Changed: ${join(area, "a")}`);
  expect(r.stdout).toContain(`Deleted: ${join(area, "b")}`);
  expect(r.stdout).toContain(`New: ${join(area, "c\\nnewline")}`);
  chmodSync(join(area, "a"), 0o4755);
  const m = run(["--scan-once", "--config", conf]);
  expect(m.code).toBe(4);
  expect(m.stdout).toMatch(/mode: 0?644 => 0?4755/);
});

test("--test-rules classifies stdin with a rules home and exits 1 when something is reported", () => {
  const rules = join(dir, "rules");
  for (const d of ["cracking.d", "violations.d", "ignore.d.server", "ignore.d.paranoid"]) mkdirSync(join(rules, d), { recursive: true });
  writeFileSync(join(rules, "cracking.d", "local"), "ATTACK\n");
  writeFileSync(join(rules, "ignore.d.server", "local"), "routine\n");
  const input = "Nov 25 10:00:00 h x: routine\nNov 25 10:00:01 h x: ATTACK \xff\nNov 25 10:00:02 h x: odd\n";
  const r = run(["--test-rules", "-", "--rules", rules, "--config", join(dir, "none.conf")], { stdin: Buffer.from(input, "latin1") });
  expect(r.stderr).toContain("none.conf"); // a named config that does not exist is an error
  expect(r.code).toBe(78);
  const ok = Bun.spawnSync([BIN, "--test-rules", "-", "--rules", rules, "--explain"], {
    stdin: new Blob([Buffer.from(input, "latin1")]), stdout: "pipe", stderr: "pipe", env: { PATH: "/usr/bin:/bin" }, cwd: dir,
  });
  expect(ok.exitCode).toBe(1);
  const out = Buffer.from(ok.stdout).toString("latin1");
  expect(out).toContain("Security Alerts");
  expect(out).toContain("ATTACK \xff"); // the byte comes back as it went in
  expect(out).toContain("System Events");
  expect(out).toContain("odd");
  expect(out).toContain("local:1");
  const quiet = run(["--test-rules", "-", "--rules", rules], { stdin: "Nov 25 10:00:00 h x: routine\n", cwd: dir });
  expect(quiet.code).toBe(0);
});

test("--status on a fresh database exits 0 and says what it tracks", () => {
  const conf = writeConfig(dir, `database = ${join(dir, "st.sqlite")}\nemail = none\n`, "st.conf");
  expect(run(["--init-db", "--config", conf]).code).toBe(0);
  const r = run(["--status", "--config", conf]);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(join(dir, "st.sqlite"));
  const missing = run(["--status", "--config", writeConfig(dir, `database = ${join(dir, "nope.sqlite")}\n`, "nope.conf")]);
  expect(missing.code).toBe(78);
});

test("--test-rules writes its whole report into a slow pipe before it exits", () => {
  const input = join(dir, "big.log");
  const lines: string[] = [];
  for (let i = 0; i < 30_000; i++) lines.push(`Nov 30 10:00:${String(i % 60).padStart(2, "0")} host app[${i}]: message number ${i} with padding to make the report big ${"x".repeat(40)}`);
  writeFileSync(input, `${lines.join("\n")}\n`);
  const toFile = join(dir, "report.out");
  const f = Bun.spawnSync(["sh", "-c", `"$0" --test-rules "$1" --rules builtin > "$2"`, BIN, input, toFile]);
  expect(f.exitCode).toBe(1); // something is reported
  const want = Bun.file(toFile).size;
  expect(want).toBeGreaterThan(3_000_000);
  // a reader that starts late: the pipe fills, the writer must wait, not drop
  const p = Bun.spawnSync(["sh", "-c", `"$0" --test-rules "$1" --rules builtin | (sleep 1; wc -c)`, BIN, input], { stdout: "pipe" });
  expect(Number(p.stdout.toString().trim())).toBe(want);
});
