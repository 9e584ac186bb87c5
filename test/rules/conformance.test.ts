// Conformance with Debian's logcheck: the real logcheck-database (fetched
// into .cache/ with apt-get download + dpkg -x), the real grep pipeline of
// /usr/sbin/logcheck re-enacted with grep/sed/run-parts, the shared corpus
// plus hand-made lines that reach every section - at every level our
// sections must hold exactly the same lines.

import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanRuleLines } from "../../src/rules/home.ts";
import { loadRuleSet } from "../../src/rules/load.ts";
import { decodeSnapshot, encodeSnapshot } from "../../src/rules/snapshot.ts";
import { fail2banCorpus } from "../../bench/support/fail2ban-corpus.ts";
import { getLogcheckDb } from "../../bench/support/logcheck-db.ts";
import { differential } from "./differential.ts";
import { grepPipeline } from "../../bench/support/grep-pipeline.ts";
import { reportOf } from "./helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "conformance-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

const db = getLogcheckDb(); // throws (test file fails) when the database cannot be fetched
const corpusPath = fail2banCorpus(); // fetched from Debian's fail2ban package; throws (test file fails) when it cannot be
const corpus = readFileSync(corpusPath).toString("latin1").split("\n").filter((l, i, a) => i < a.length - 1 || l !== "");

// Lines that reach cracking.d and violations.d rules of the database, and
// hostile bytes (NUL, invalid UTF-8, CR, trailing blanks).
const H = "Nov 25 10:00:00 host";
export const EXTRA = [
  `${H} kernel: Oversized packet received from 192.0.2.1`,
  `${H} rlogind[12]: Connection from 192.0.2.1 on illegal port`,
  `${H} smartd[99]: Device: /dev/sda, SMART Usage Attribute: 5 Reallocated_Sector_Ct changed from 100 to 99`,
  `${H} smartd[99]: Device: /dev/sda, 8 Currently unreadable (pending) sectors`,
  `${H} sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update`,
  `${H} sudo:    alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/sh`,
  `${H} sudo: pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)`,
  `${H} su[123]: (to root) alice on pts/1`,
  `${H} su[123]: FAILED SU (to root) alice on pts/1`,
  `${H} su[123]: pam_unix(su:session): session closed for user root`,
  `${H} kernel: [ 12.345] end_request: I/O error, dev sda, sector 1234`,
  `${H} CRON[4242]: (root) CMD (   cd / && run-parts --report /etc/cron.hourly)   `,
  `${H} CRON[4242]: pam_unix(cron:session): session closed for user root\r`,
  `${H} sshd[1]: Accepted publickey for alice from 192.0.2.9 port 5555 ssh2\t `,
  `${H} sshd[1]: Invalid user \x00admin\xff\xfe from 192.0.2.9 port 22`,
  `${H} sshd[1]: Failed password for invalid user caf\xc3\xa9 from 192.0.2.9 port 22 ssh2`,
  `${H} amavis[77]: (12345-01) Passed CLEAN {RelayedInbound}, [192.0.2.1] <a@b.c> -> <d@e.f>, mail_id: abc, Hits: ${"1".repeat(30)}, size: 12x`,
  `2024-05-01T10:00:00.123456+02:00 host systemd[1]: Started Session 4 of user alice.`,
  "",
  "   ",
  "no syslog prefix at all",
];

const inputFile = join(tmp, "input.log");
writeFileSync(inputFile, Buffer.from([...corpus, ...EXTRA].join("\n") + "\n", "latin1"));
const inputLines = readFileSync(inputFile).toString("latin1").split("\n");
inputLines.pop();

for (const level of ["paranoid", "server", "workstation"] as const) {
  test(`Debian logcheck-database ${db.version}, level ${level}: same sections as logcheck's grep pipeline`, async () => {
    const want = grepPipeline({ home: db.rulesHome, level, input: inputFile });
    const r = await loadRuleSet({ home: db.rulesHome }, level);
    expect(r.from).toBe("home");
    expect(r.problems).toEqual([]);
    expect(r.classifier.problems).toEqual([]);
    const got = reportOf(r.classifier, inputLines).entries();
    expect(got.map(([t]) => t)).toEqual(want.map(([t]) => t));
    expect(got).toEqual(want);
    // the run must exercise every kind of section
    const titles = got.map(([t]) => t).join("|");
    expect(titles).toContain("Security Alerts for ");
    expect(titles).toContain("Security Events for ");
    expect(titles).toContain("System Events");
    // the same rule set through the compiled-rules cache's bytes: the same report, the same reasons
    const cached = decodeSnapshot(encodeSnapshot(r.classifier));
    cached.displayPrefix = r.classifier.displayPrefix;
    expect(reportOf(cached, inputLines).entries()).toEqual(want);
    for (const l of inputLines) expect(cached.explain(l)).toEqual(r.classifier.explain(l));
  }, 60000);
}

test("every rule of the Debian database agrees with grep -E on probes and the corpus", async () => {
  const rules: string[] = [];
  for (const dir of readdirSync(db.rulesHome)) {
    if (!dir.endsWith(".d") && !dir.includes(".d.")) continue;
    let names: string[] = [];
    try {
      names = readdirSync(join(db.rulesHome, dir));
    } catch {
      continue;
    }
    for (const n of names) {
      const text = readFileSync(join(db.rulesHome, dir, n)).toString("latin1");
      for (const r of cleanRuleLines(`${dir}/${n}`, text)) rules.push(r.source);
    }
  }
  expect(rules.length).toBeGreaterThan(1800);
  const { checked, failures } = await differential(tmp, rules, () => [...corpus, ...EXTRA], "db");
  expect(failures).toEqual([]);
  expect(checked).toBeGreaterThan(1_000_000);
}, 170000);
