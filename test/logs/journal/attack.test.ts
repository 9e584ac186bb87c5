// The attack, for real: a real systemd-journald (in a private mount
// namespace, on tmpfs) receives `logger -t sshd 'Accepted password for root
// from …'` from a throwaway user made with useradd; the compiled integrityd
// follows the local journal (`journal = all`) with rules that IGNORE that very
// line. It is reported anyway, as a spoofed security alert carrying the
// origin journald recorded (the user's uid, /usr/bin/logger); the user's
// ordinary line is reported as an ordinary one, with its trusted origin.
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { BIN, ensureBinary, run, tempDir, writeConfig } from "../../support/binary.ts";
import { throwawayUser } from "../../support/users.ts";
import { writeRules } from "../helpers.ts";

const { dir, cleanup } = tempDir("integrityd-journald-");
afterAll(cleanup);

test("logger -t sshd by a local user, through the real journald: a spoofed alert whatever the rules say", async () => {
  for (const p of ["/lib/systemd/systemd-journald", "/usr/bin/unshare", "/usr/bin/logger", "/usr/bin/journalctl"]) {
    if (!existsSync(p)) return console.log(`skipped: ${p} is missing`);
  }
  const user = throwawayUser("journal spoofing attack");
  if (!user) return;
  try {
    ensureBinary();
    const rules = join(dir, "rules");
    writeRules(rules, {
      "ignore.d.server/ssh": "^\\w{3} [ :[:digit:]]{11} [._[:alnum:]-]+ sshd\\[[[:digit:]]+\\]: Accepted password for root from [.[:digit:]]+ port [[:digit:]]+ ssh2$\n",
    });
    const dbPath = join(dir, "db.sqlite");
    const conf = writeConfig(dir, [`email = none`, `database = ${dbPath}`, `logrules = server:${rules}`, `journal = all`].join("\n") + "\n");
    expect(run(["--init-db", "--config", conf]).code).toBe(0);
    const child = Bun.spawn(["/usr/bin/unshare", "-m", "--propagation", "private", process.execPath, join(import.meta.dir, "child-journald.ts"), BIN, conf, dbPath, String(user.uid), String(user.gid)], { stdout: "pipe", stderr: "pipe" });
    const code = await child.exited;
    const err = await new Response(child.stderr).text();
    if (code !== 0 && /unshare failed|Operation not permitted/.test(err)) return console.log(`skipped: cannot make a mount namespace here: ${err.trim()}`);
    expect(code).toBe(0);

    const db = new Database(dbPath, { readonly: true });
    const rows = db.query("SELECT kind, section, urgent, text, details FROM events WHERE channel = 'log' AND subject = 'journal local' ORDER BY id").all() as { kind: string; section: string; urgent: number; text: string; details: string }[];
    db.close();
    const alerts = rows.filter((r) => r.kind === "alert");
    expect(alerts.length).toBe(1);
    const a = alerts[0];
    expect(a.section).toBe("Security Alerts");
    expect(a.urgent).toBe(1);
    expect(a.text).toMatch(/ sshd\[\d+\]: Accepted password for root from 203\.0\.113\.66 port 22 ssh2 \[origin: /); // no SYSLOG_PID: _PID, as imjournal does
    expect(a.text).toContain(`[integrityd: spoofed: identifier sshd (a root daemon) but _UID=${user.uid}`);
    const d = JSON.parse(a.details);
    expect(d.spoofed).toBe(true);
    expect(d.rules).toEqual([]); // the rules ignored it
    expect(d.journal).toMatchObject({ source: "local", uid: user.uid, identifier: "sshd", trusted: true });
    expect(["/usr/bin/logger", null]).toContain(d.journal.exe); // journald may miss _EXE of a process that already exited
    const ordinary = rows.filter((r) => r.text.includes("an ordinary line from an ordinary user"));
    expect(ordinary.length).toBe(1);
    expect(ordinary[0].kind).toBe("system");
    expect(ordinary[0].text).toContain(`[origin: _UID=${user.uid}`);
    expect(JSON.parse(ordinary[0].details).journal.trusted).toBe(true);
  } finally {
    user.remove();
  }
}, 90_000);
