// The rendered line is the line rsyslog writes: the same messages are sent to
// a real rsyslogd (imuxsock, RSYSLOG_TraditionalFileFormat, as Debian's
// /var/log/syslog) and rendered from journal entries read back by the real
// journalctl; the lines agree byte for byte after the time stamp (whose
// format is checked), and Debian's logcheck-database gives both the same
// verdict at every level.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { getLogcheckDb } from "../../../bench/support/logcheck-db.ts";
import { ExportParser } from "../../../src/logs/journal/export.ts";
import { renderLine } from "../../../src/logs/journal/render.ts";
import { stripTrailing } from "../../../src/rules/layers.ts";
import { loadRuleSet } from "../../../src/rules/load.ts";
import { tempDir } from "../../support/binary.ts";
import { entry, journalToolsMissing, readExport, writeJournal } from "../../support/journal.ts";

const { dir, cleanup } = tempDir("integrityd-rsyslog-");
afterAll(cleanup);

// [tag, pid, message bytes]: real lines logcheck's rules know, tabs, 8-bit bytes, DEL
const MESSAGES: [string, string, Buffer][] = [
  ["sshd", "4242", Buffer.from("Accepted password for root from 10.0.0.1 port 22 ssh2")],
  ["sshd", "4242", Buffer.from("Failed password for invalid user admin from 192.0.2.7 port 4711 ssh2")],
  ["su", "99", Buffer.from("pam_unix(su:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=root")],
  ["CRON", "123", Buffer.from("(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)")],
  ["systemd", "1", Buffer.from("Started session-12.scope - Session 12 of User root.")],
  ["app", "7", Buffer.from("tab\there and a DEL \x7f and 8-bit \xff\xc3\x28 bytes", "latin1")],
];

test("rsyslog's line and ours agree, and so do Debian's rules", async () => {
  const why = journalToolsMissing() ?? (existsSync("/usr/sbin/rsyslogd") ? null : "rsyslogd is not installed (Debian package rsyslog)");
  if (why) return console.log(`skipped: ${why}`);
  const sock = join(dir, "log.sock");
  const out = join(dir, "syslog");
  writeFileSync(join(dir, "rsyslog.conf"), [
    `global(workDirectory="${dir}")`,
    `module(load="imuxsock" SysSock.Use="off")`,
    `input(type="imuxsock" Socket="${sock}" CreatePath="on")`,
    `*.* action(type="omfile" file="${out}" template="RSYSLOG_TraditionalFileFormat")`,
  ].join("\n") + "\n");
  const rs = Bun.spawn(["/usr/sbin/rsyslogd", "-n", "-f", join(dir, "rsyslog.conf"), "-i", join(dir, "rsyslogd.pid")], { stdout: "ignore", stderr: "pipe" });
  try {
    for (let i = 0; i < 100 && !existsSync(sock); i++) await Bun.sleep(50);
    expect(existsSync(sock)).toBe(true);
    for (const [tag, pid, msg] of MESSAGES) {
      // the message bytes on stdin (an argument would be re-encoded as UTF-8); one line each
      const r = Bun.spawnSync(["logger", "-u", sock, "-t", tag, `--id=${pid}`, "-p", "auth.info"], { stdin: msg, stdout: "pipe", stderr: "pipe" });
      expect(r.exitCode).toBe(0);
    }
    for (let i = 0; i < 100 && (!existsSync(out) || readFileSync(out, "latin1").split("\n").length <= MESSAGES.length); i++) await Bun.sleep(50);
  } finally {
    rs.kill();
    await rs.exited;
  }
  const theirs = readFileSync(out, "latin1").split("\n").filter(Boolean);
  expect(theirs.length).toBe(MESSAGES.length);

  // the same messages as journald stores them, through a real journal file and journalctl
  const jdir = join(dir, "journal");
  mkdirSync(jdir);
  const hostName = theirs[0].split(" ").filter(Boolean)[3]; // the host name rsyslog wrote
  writeJournal(join(jdir, "x.journal"), MESSAGES.map(([tag, pid, msg], i) =>
    entry(msg, Date.now() * 1000 + i, { SYSLOG_IDENTIFIER: tag, SYSLOG_PID: pid, _PID: pid, _HOSTNAME: hostName })));
  const ours = new ExportParser().push(readExport(jdir)).map((e) => renderLine(e, "unused"));
  expect(ours.length).toBe(MESSAGES.length);
  const STAMP = /^[A-Z][a-z]{2} [ 1-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] /;
  for (let i = 0; i < ours.length; i++) {
    expect(ours[i]).toMatch(STAMP);
    expect(theirs[i]).toMatch(STAMP);
    expect(ours[i].slice(16)).toBe(theirs[i].slice(16));
  }

  const db = getLogcheckDb();
  let kinds: string[] = [];
  for (const level of ["paranoid", "server", "workstation"] as const) {
    const { classifier } = await loadRuleSet({ home: db.rulesHome }, level, { fallback: {} });
    const verdicts = (lines: string[]) => lines.map((l) => classifier.classify(stripTrailing(l)));
    expect(verdicts(ours)).toEqual(verdicts(theirs));
    if (level === "server") kinds = verdicts(ours).map((v) => v.map((p) => p.kind).join(",") || "ignored");
  }
  // and the rules do tell these lines apart: reported and ignored ones among them
  expect(kinds).toContain("ignored");
  expect(kinds.some((k) => k.includes("violation") || k.includes("alert"))).toBe(true);
}, 60_000);
