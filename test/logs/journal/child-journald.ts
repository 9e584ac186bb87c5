// Inside a private mount namespace (the test runs this under `unshare -m`):
// a real systemd-journald on tmpfs (/run/systemd, /run/log, /var/log/journal
// hidden), the compiled integrityd following the local journal (`journal =
// all`), then the attack: a throwaway user runs `logger -t sshd 'Accepted
// password for root …'`. Waits until the alert is queued (or a time limit),
// stops both and exits; the test reads the database.
//   bun child-journald.ts BIN CONFIG DB USER_UID USER_GID
import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";

const [bin, conf, dbPath, uid, gid] = process.argv.slice(2);
const sh = (argv: string[]) => {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.toString()}`);
};
for (const d of ["/run/systemd", "/run/log", "/var/log/journal"]) {
  if (!existsSync(d)) sh(["mkdir", "-p", d]);
  sh(["mount", "-t", "tmpfs", "tmpfs", d]);
}
const journald = Bun.spawn(["/lib/systemd/systemd-journald"], { stdout: "ignore", stderr: "ignore" });
const sock = "/run/systemd/journal/dev-log";
const until = async (cond: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await Bun.sleep(50);
  return cond();
};
const query = (sql: string) => {
  try {
    const db = new Database(dbPath, { readonly: true });
    try {
      return db.query(sql).all() as Record<string, unknown>[];
    } finally {
      db.close();
    }
  } catch {
    return [];
  }
};
let daemon: ReturnType<typeof Bun.spawn> | null = null;
try {
  if (!(await until(() => existsSync(sock), 10_000))) throw new Error("journald did not start");
  daemon = Bun.spawn([bin, "--config", conf], { stdout: "ignore", stderr: "inherit" });
  if (!(await until(() => query("SELECT cursor FROM journals").length > 0, 20_000))) throw new Error("integrityd did not start on the journal");
  const asUser = ["/usr/bin/setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--", "logger", "-u", sock];
  sh([...asUser, "-t", "sshd", "Accepted password for root from 203.0.113.66 port 22 ssh2"]);
  sh([...asUser, "-t", "myapp", "an ordinary line from an ordinary user"]);
  await until(() => query("SELECT id FROM events WHERE text LIKE '%ordinary line%'").length > 0 && query("SELECT id FROM events WHERE kind = 'alert'").length > 0, 20_000);
} finally {
  daemon?.kill("SIGTERM");
  await daemon?.exited;
  journald.kill("SIGTERM");
  await journald.exited;
}
