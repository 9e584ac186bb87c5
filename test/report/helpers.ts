// Test helpers for the report module: a real SMTP server (npm smtp-server) on
// 127.0.0.1 that records what it accepted and how, MIME body decoding, temp
// databases and configurations.
import { join } from "node:path";
import { type Config, defaultConfig } from "../../src/config/config.ts";
import { initDatabase, openDatabase } from "../../src/db/db.ts";
import { tempDir as supportTempDir } from "../support/binary.ts";

export { type Got, Smtp } from "../support/smtp.ts";

/** A port nothing listens on (bound once, then released). */
export async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = s.port;
  s.stop(true);
  return p;
}

export function tempDir(prefix = "integrityd-report-"): { dir: string; cleanup: () => void } {
  return supportTempDir(prefix);
}

export function tempDb(dir: string) {
  const path = join(dir, "db.sqlite");
  initDatabase(path);
  return openDatabase(path);
}

export function testConfig(dir: string, over: Partial<Config> = {}): Config {
  return {
    ...defaultConfig(join(dir, "integrityd.conf")),
    database: join(dir, "db.sqlite"),
    email: ["admin@example.org"],
    mailfrom: "integrityd@test.example",
    reporttime: 0,
    reportholdoff: 0,
    logreporttime: 0,
    logreportholdoff: 0,
    ...over,
  };
}

/** Wait until cond() holds, polling; fails after `ms`. */
export async function until(cond: () => boolean, ms = 10_000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}
