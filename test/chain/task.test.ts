import { afterEach, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { createChainTask } from "../../src/chain/task.ts";
import { readKeyFile } from "../../src/chain/keyfile.ts";
import { defaultConfig } from "../../src/config/config.ts";
import { chainedDatabase, verify, type ChainedDatabase } from "../support/chain.ts";

let t: ChainedDatabase;
afterEach(() => t?.cleanup());

const seals = () => (t.db.query("SELECT count(*) AS n FROM chain WHERE kind = 'seal'").get() as { n: number }).n;

test("epochs are sealed on the period while idle, and not while a transaction is open", async () => {
  t = chainedDatabase();
  const config = { ...defaultConfig("/x.conf"), database: t.path, chainepoch: 0.05 };
  const task = createChainTask({ db: t.db, config })!;
  await Bun.sleep(400);
  const n = seals();
  expect(n).toBeGreaterThanOrEqual(4); // genesis seal + at least three more
  t.db.exec("BEGIN");
  await Bun.sleep(200);
  expect(seals()).toBe(n);
  t.db.exec("COMMIT");
  await Bun.sleep(1300); // postponed seals retry every second
  task.stop();
  expect(seals()).toBeGreaterThan(n);
  expect(readKeyFile(t.keyPath)!.epoch).toBe(seals());
  expect(verify(t.path, t.firstKey).code).toBe(0);
});

test("no task without a chain", () => {
  t = chainedDatabase();
  const db2 = new Database(":memory:");
  expect(createChainTask({ db: db2, config: defaultConfig("/x.conf") })).toBeNull();
  db2.close();
});
