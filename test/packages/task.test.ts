// The daemon's backfill task on this host's dpkg database, with apt's
// directories pointed at empty temp ones (APT_CONFIG): no .deb, so every
// package gets dpkg's MD5 list at best; the counts land in meta for --status.
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { META_BACKFILL, packagesStatus } from "../../src/packages/status.ts";
import { createPackagesTask } from "../../src/packages/task.ts";
import { defaultConfig } from "../../src/config/config.ts";
import { tempDatabase } from "../support/db.ts";

test.skipIf(!existsSync("/var/lib/dpkg/status") || !existsSync("/usr/bin/apt-config"))("the backfill task records md5-only manifests and its counts, and stops when asked", async () => {
  const t = tempDatabase("integrityd-pkgtask-");
  const saved = process.env.APT_CONFIG;
  try {
    mkdirSync(join(t.dir, "lists"));
    mkdirSync(join(t.dir, "cache/archives"), { recursive: true });
    writeFileSync(join(t.dir, "apt.conf"), `Dir::Etc::SourceList "${t.dir}/none";\nDir::Etc::SourceParts "${t.dir}/lists";\nDir::State::Lists "${t.dir}/lists";\nDir::Cache "${t.dir}/cache";\n`);
    process.env.APT_CONFIG = join(t.dir, "apt.conf");
    expect(createPackagesTask({ db: t.db, config: { ...defaultConfig("x"), packages: "off" } })).toBeNull();
    const task = createPackagesTask({ db: t.db, config: defaultConfig("x") }, { start: 0, pace: 0, again: 1e9 })!;
    const until = Date.now() + 50_000;
    while (Date.now() < until && !t.db.query("SELECT 1 FROM meta WHERE key = ?").get(META_BACKFILL)) await Bun.sleep(100);
    await task.stop();
    const s = packagesStatus(t.db);
    expect(s.lastBackfill).not.toBeNull();
    expect(s.lastBackfill!.verified).toBe(0);
    expect(s.lastBackfill!.md5only).toBeGreaterThan(10);
    expect(s.md5only).toBe(s.lastBackfill!.md5only);
    expect(s.paths).toBeGreaterThan(100);
  } finally {
    if (saved === undefined) delete process.env.APT_CONFIG;
    else process.env.APT_CONFIG = saved;
    t.cleanup();
  }
}, 60_000);
