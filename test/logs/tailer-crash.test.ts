// The log follower's durability end to end: kill -9 of the process running the task, again and again, while another
// process appends (and rotates the log halfway): every line is queued exactly
// once, in order.
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanupAll, type Env, makeEnv, sleep, writeRules } from "./helpers.ts";

const CHILD = join(import.meta.dir, "child-tailer.ts");
const WRITER = join(import.meta.dir, "child-writer.ts");
let env: Env;
afterAll(cleanupAll);

function spawnTailer(log: string, mode: "run" | "once") {
  return Bun.spawn([process.execPath, CHILD, env.dbPath, log, env.rules, mode], { stdout: "pipe", stderr: "ignore" });
}

test("kill -9 at random points while another process appends and rotates: every line queued exactly once, in order", async () => {
  env = makeEnv();
  writeRules(env.rules, { "ignore.d.server/a": "^never matches anything$\n" });
  const log = env.config.logs[0].path;
  writeFileSync(log, "");
  env.db.close(); // the children own the database now
  expect(await spawnTailer(log, "once").exited).toBe(0); // first start: at the (empty) end

  const COUNT = 4000;
  const writer = Bun.spawn([process.execPath, WRITER, log, String(COUNT)], { stdout: "ignore", stderr: "inherit" });
  let writerDone = false;
  void writer.exited.then(() => (writerDone = true));
  let kills = 0;
  while (!writerDone) {
    const t = spawnTailer(log, "run");
    await sleep(30 + Math.floor(Math.random() * 150));
    t.kill(9);
    await t.exited;
    kills++;
  }
  expect(await writer.exited).toBe(0);
  expect(await spawnTailer(log, "once").exited).toBe(0); // catch up

  const { openDatabase } = await import("../../src/db/db.ts");
  env.db = openDatabase(env.dbPath);
  const rows = env.db.query("SELECT kind, text FROM events WHERE channel = 'log' ORDER BY id").all() as { kind: string; text: string }[];
  const lines = rows.filter((r) => r.kind === "system").map((r) => r.text);
  const expected = Array.from({ length: COUNT }, (_, i) => `line ${i} ${"p".repeat(i % 50)}`.trimEnd());
  expect(kills).toBeGreaterThan(2);
  expect(lines.length).toBe(COUNT);
  expect(lines).toEqual(expected);
  expect(rows.filter((r) => r.kind !== "system")).toEqual([]); // no loss notice: the rotated file was found
}, 60_000);
