// End to end: the compiled daemon chains, seals every second, stamps its mails
// and sends heartbeats to a real SMTP server; the mailbox and a copy of the
// database go through `--verify-chain`: intact, then a dropped mail and the
// silence after the daemon stopped are found.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run, tempDir, writeConfig } from "../support/binary.ts";
import { writeMbox } from "../support/chain.ts";
import { DaemonProc } from "../support/daemon.ts";
import { TestSmtp } from "../support/smtp.ts";

let dir: string;
let cleanup: () => void;
const smtp = new TestSmtp();
beforeAll(async () => {
  ({ dir, cleanup } = tempDir("integrityd-e2e-chain-"));
  await smtp.start();
});
afterAll(async () => {
  await smtp.stop();
  cleanup();
});

const HEARTBEAT = 3;

test("stamped mails and heartbeats verify; a dropped mail and a silent daemon are found", async () => {
  const area = join(dir, "area");
  mkdirSync(area);
  writeFileSync(join(area, "passwd"), "root:x:0:0\n");
  const db = join(dir, "db.sqlite");
  const conf = writeConfig(dir, `email = root@localhost\nsmtp = 127.0.0.1:${smtp.port}\ndatabase = ${db}\narea = ${area}\nreporttime = 0\nreportholdoff = 0\nchainepoch = 1\nheartbeat = ${HEARTBEAT}\n`);
  const init = run(["-c", conf, "--init-db"]);
  expect(init.code).toBe(0);
  const key = /FIRST CHAIN KEY.*\n\s+([0-9a-f-]{71})\n/.exec(init.stdout)?.[1];
  expect(key).toBeDefined();
  expect(statSync(`${db}.chainkey`).mode & 0o777).toBe(0o600);
  expect(run(["-c", conf, "--init-db"]).stdout).not.toContain("FIRST CHAIN KEY"); // printed once

  const d = new DaemonProc(["-c", conf]);
  const heartbeats = () => smtp.mails.filter((m) => m.subject.startsWith("integrityd heartbeat")).length;
  await d.until(() => heartbeats() >= 2, 20_000, "two heartbeats");
  d.kill("SIGTERM");
  expect(await d.exited).toBe(0);
  const stamped = smtp.mails.filter((m) => /X-Integrityd-Chain: report=/i.test(m.headers));
  expect(stamped.length).toBe(smtp.mails.length);
  expect(stamped.length).toBeGreaterThanOrEqual(3);
  expect(smtp.mails[0].body).toMatch(/\nChain: report #1, entries 1-\d+, head epoch \d+ mac [0-9a-f]{64}\n/);
  expect(smtp.mails.find((m) => m.subject.startsWith("integrityd heartbeat"))!.body).toContain("is alive: nothing to report");

  const copy = join(dir, "copy.sqlite");
  copyFileSync(db, copy);
  const all = writeMbox(dir, smtp.mails);
  const ok = run(["--verify-chain", "--key", "-", "--database", copy, "--mails", all], { stdin: `${key}\n` });
  expect(ok.stdout).toContain("intact");
  expect(ok.code).toBe(0);
  const seals = Number(run(["--verify-chain", "--key", key!, "--database", copy]).stdout.match(/epochs 0-(\d+)/)?.[1]);
  expect(seals).toBeGreaterThanOrEqual(3); // sealed every second, idle or not

  const dropped = writeMbox(dir, smtp.mails.filter((_, i) => i !== 1), "dropped.mbox");
  const gap = run(["--verify-chain", "--key", key!, "--database", copy, "--mails", dropped]);
  expect(gap.code).toBe(1);
  expect(gap.stdout).toContain("report #2 is missing from the mailbox");

  await Bun.sleep(HEARTBEAT * 1500 + 500);
  const silent = run(["--verify-chain", "--key", key!, "--database", copy, "--mails", all]);
  expect(silent.code).toBe(1);
  expect(silent.stdout).toMatch(/no mail since .* with a heartbeat every 3s/);

  expect(run(["--verify-chain", "--key", "nonsense", "--database", copy]).code).toBe(64);
  expect(run(["--verify-chain", "--key", key!, "--database", join(dir, "nothere.sqlite")]).code).toBe(74);
}, 60_000);
