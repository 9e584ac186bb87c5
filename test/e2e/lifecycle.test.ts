// The daemon's own news, end to end on the compiled binary with a real SMTP
// server on 127.0.0.1: a stop is mailed (with what was pending, whatever the
// pooling said), and a start after kill -9 says the last run ended uncleanly.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run, tempDir, writeConfig } from "../support/binary.ts";
import { DaemonProc } from "../support/daemon.ts";
import { TestSmtp } from "../support/smtp.ts";

let dir = "";
let cleanup = () => {};
const smtp = new TestSmtp();
beforeAll(async () => {
  ({ dir, cleanup } = tempDir("integrityd-life-"));
  await smtp.start();
});
afterAll(async () => {
  await smtp.stop();
  cleanup();
});

function setup(name: string) {
  const area = join(dir, `${name}-area`);
  mkdirSync(area);
  writeFileSync(join(area, "a"), "one\n");
  // file events pool for an hour: only the stop can make them leave now
  const body = `database = ${join(dir, `${name}.sqlite`)}\nemail = admin@example.org\nsmtp = 127.0.0.1:${smtp.port}\narea = ${area}\nfilerate = 50\nreporttime = 3600\nreportholdoff = 3600\n`;
  const conf = writeConfig(dir, body, `${name}.conf`);
  expect(run(["--init-db", "--config", conf]).code).toBe(0);
  return { conf, area };
}

const bodies = () => smtp.mails.map((m) => m.body).join("\n----\n");

test("SIGTERM: the stop is news, and what was pending goes out with it", async () => {
  const { conf, area } = setup("stop");
  const d = new DaemonProc(["--config", conf]);
  await d.waitFor(/integrityd started/);
  writeFileSync(join(area, "b"), "new file\n");
  await Bun.sleep(3000); // the trickle finds it; its mail would wait an hour
  const before = smtp.mails.length;
  d.kill("SIGTERM");
  expect(await d.exited).toBe(0);
  const mails = smtp.mails.slice(before).map((m) => m.body).join("\n");
  expect(mails).toContain("integrityd stopping: SIGTERM received");
  expect(bodies()).toContain("Daemon Notices");
  // nothing was left pending, though the pooling said to wait an hour
  const db = new Database(join(dir, "stop.sqlite"), { readonly: true });
  const pending = (db.query("SELECT count(*) AS n FROM events WHERE mailed IS NULL").get() as { n: number }).n;
  const files = (db.query("SELECT count(*) AS n FROM events WHERE channel = 'file'").get() as { n: number }).n;
  db.close();
  expect(files).toBeGreaterThan(0);
  expect(pending).toBe(0);
});

test("a start after kill -9 says so in its first mail", async () => {
  const { conf } = setup("crash");
  const d = new DaemonProc(["--config", conf]);
  await d.waitFor(/integrityd started/);
  d.kill("SIGKILL");
  await d.exited;
  const before = smtp.mails.length;
  const again = new DaemonProc(["--config", conf]);
  await again.waitFor(/integrityd started/);
  await again.until(() => smtp.mails.slice(before).some((m) => m.body.includes("unclean end")), 15_000, "the unclean-start notice");
  expect(again.stderr).toContain("starts after an unclean end");
  again.kill("SIGTERM");
  expect(await again.exited).toBe(0);
  // and a clean stop leaves no such notice for the next start
  const next = new DaemonProc(["--config", conf]);
  await next.waitFor(/integrityd started/);
  expect(next.stderr).not.toContain("unclean end");
  next.kill("SIGTERM");
  expect(await next.exited).toBe(0);
});

test("an area that does not exist is mailed, not only warned about on stderr", async () => {
  const { conf } = setup("typo");
  const missing = join(dir, "typo-area-misspelt");
  writeFileSync(conf, `${await Bun.file(conf).text()}area = ${missing}\n`, { mode: 0o600 });
  const before = smtp.mails.length;
  const d = new DaemonProc(["--config", conf]);
  await d.waitFor(/integrityd started/);
  expect(d.stderr).toContain(`area ${missing} does not exist`);
  d.kill("SIGTERM");
  expect(await d.exited).toBe(0);
  expect(smtp.mails.slice(before).map((m) => m.body).join("\n")).toContain(`Error: area ${missing} does not exist or is not a directory`);
});
