import { afterEach, expect, test } from "bun:test";
import { renameSync } from "node:fs";
import { chainStatus } from "../../src/chain/status.ts";
import { defaultConfig } from "../../src/config/config.ts";
import { enqueue } from "../../src/db/events.ts";
import { chainedDatabase, type ChainedDatabase } from "../support/chain.ts";
import { tempDatabase } from "../support/db.ts";

let t: ChainedDatabase;
afterEach(() => t?.cleanup());
const cfg = (database: string) => ({ ...defaultConfig("/x.conf"), database });

test("off without a chain; on with its head and key epoch; broken when the key file is gone", () => {
  const plain = tempDatabase();
  expect(chainStatus(plain.db, cfg(plain.path)).state).toBe("off");
  plain.cleanup();
  t = chainedDatabase();
  enqueue(t.db, { channel: "pid", kind: "died", subject: "/run/x.pid", text: "died" });
  const on = chainStatus(t.db, cfg(t.path));
  expect(on).toMatchObject({ state: "on", keyFile: t.keyPath, keyEpoch: 1, entries: 4, headEpoch: 1, problem: null });
  expect(on.lastSeal).toBeGreaterThan(0);
  renameSync(t.keyPath, `${t.keyPath}.gone`);
  const broken = chainStatus(t.db, cfg(t.path));
  expect(broken.state).toBe("broken");
  expect(broken.problem).toContain("key file missing");
});
