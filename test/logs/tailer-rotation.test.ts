// The log follower's task and rotation modes: rename + create (live and across a restart, numbered and dated
// names), copytruncate (with and without a copy to recover from), deletion and
// re-creation, a log that does not exist yet, a file replaced under the same inode.
import { afterEach, describe, expect, test } from "bun:test";
import { appendFileSync, copyFileSync, mkdirSync, renameSync, rmdirSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { logStatus } from "../../src/logs/status.ts";
import { cleanupAll, following, events, makeEnv, sleep, start, texts, until, writeRules } from "./helpers.ts";

afterEach(cleanupAll);

const RULES = { "ignore.d.server/test": "^ignored\n" };

describe("rotation", () => {
  test("rename + create: the old file is finished first (lines written to it after the rename too), then the new one", async () => {
    const { env, log, task } = await following(RULES);
    appendFileSync(log, "a1\na2\n");
    await task.settle();
    appendFileSync(log, "a3\n"); // not read yet
    renameSync(log, `${log}.1`);
    appendFileSync(`${log}.1`, "a4 written by the old writer\na5 partial, never completed");
    writeFileSync(log, "b1\n");
    await task.settle();
    expect(texts(env.db)).toEqual(["a1", "a2", "a3", "a4 written by the old writer", "a5 partial, never completed", "b1"]);
    appendFileSync(log, "b2\n");
    await task.settle();
    expect(texts(env.db).slice(-1)).toEqual(["b2"]);
    expect(events(env.db, "notice")).toEqual([]); // an ordinary rotation is no news
    await task.stop();
  });

  test("rename + create while the daemon is down: the old file is found by inode (dated name) and finished", async () => {
    const { env, log } = await following(RULES);
    let task = env.tasks[0];
    appendFileSync(log, "x1\n");
    await task.settle();
    await task.stop();
    appendFileSync(log, "x2\nx3\n");
    renameSync(log, `${log}-20240101`);
    writeFileSync(`${log}.1`, "an older rotation, not ours\n"); // a decoy with a different inode
    writeFileSync(log, "y1\n");
    task = start(env);
    await task.settle();
    expect(texts(env.db)).toEqual(["x1", "x2", "x3", "y1"]);
    await task.stop();
  });

  test("renamed and not yet re-created: keep reading the old file, then switch when the new one appears", async () => {
    const { env, log, task } = await following(RULES);
    renameSync(log, `${log}.0`);
    appendFileSync(`${log}.0`, "late1\n");
    await task.settle();
    expect(texts(env.db)).toEqual(["late1"]);
    expect(events(env.db, "notice")).toEqual([]);
    writeFileSync(log, "new1\n");
    await task.settle();
    expect(texts(env.db)).toEqual(["late1", "new1"]);
    await task.stop();
  });

  test("rotation grace: while the old file is still being written, its lines are taken before the new file's", async () => {
    const { env, log, task } = await following(RULES, { tail: { rotateGraceMs: 300 } });
    renameSync(log, `${log}.1`);
    writeFileSync(log, "new first\n");
    await task.settle(); // old file written just now: still followed
    appendFileSync(`${log}.1`, "old, after the rename\n");
    await task.settle();
    expect(texts(env.db)).toEqual(["old, after the rename"]);
    // once the old file is quiet for the grace time, the tailer switches on its own (timer)
    expect(await until(() => texts(env.db).length === 2, 3000)).toBe(true);
    expect(texts(env.db)).toEqual(["old, after the rename", "new first"]);
    await task.stop();
  });

  test("copytruncate: the unread tail is taken from the copy, then the file is read from 0 with a notice", async () => {
    const { env, log, task } = await following(RULES);
    appendFileSync(log, "first line of the file, long enough to fingerprint\nc1\n");
    await task.settle();
    appendFileSync(log, "c2 unread at rotation\n");
    copyFileSync(log, `${log}.1`);
    truncateSync(log, 0);
    appendFileSync(log, "d1 after truncation\n");
    await task.settle();
    expect(texts(env.db)).toEqual(["first line of the file, long enough to fingerprint", "c1", "c2 unread at rotation", "d1 after truncation"]);
    const n = events(env.db, "notice");
    expect(n.length).toBe(1);
    expect(n[0].text).toContain("truncated");
    expect(n[0].text).toContain("from the rotated copy");
    await task.stop();
  });

  test("truncation without a copy: restart at 0 and say so; a regrown file with new first bytes is caught too", async () => {
    const { env, log, task } = await following(RULES);
    appendFileSync(log, "Jan  1 00:00:00 host app: one\nJan  1 00:00:01 host app: two\n");
    await task.settle();
    truncateSync(log, 0);
    await task.settle();
    appendFileSync(log, "Feb  2 00:00:00 host app: three\n");
    await task.settle();
    // truncated and rewritten past the old offset before we looked: the first bytes differ
    writeFileSync(log, "Mar  3 00:00:00 host app: four, a rather longer line than before to pass the offset\n");
    await task.settle();
    expect(texts(env.db)).toEqual([
      "Jan  1 00:00:00 host app: one", "Jan  1 00:00:01 host app: two", "Feb  2 00:00:00 host app: three",
      "Mar  3 00:00:00 host app: four, a rather longer line than before to pass the offset",
    ]);
    expect(events(env.db, "notice").length).toBe(2);
    await task.stop();
  });

  test("deletion: finish the file, one notice, pick up the re-created file from its start", async () => {
    const { env, log, task } = await following(RULES);
    appendFileSync(log, "before delete\n");
    await task.settle();
    appendFileSync(log, "unread at delete\n");
    unlinkSync(log);
    await task.settle();
    await task.settle();
    expect(texts(env.db)).toEqual(["before delete", "unread at delete"]);
    const n = events(env.db, "notice");
    expect(n.length).toBe(1);
    expect(n[0].text).toContain("deleted");
    expect(logStatus(env.db)[0].missing).toBe(true);
    expect(logStatus(env.db)[0].size).toBe(null);
    writeFileSync(log, "re-created 1\nre-created 2\n");
    await task.settle();
    expect(texts(env.db)).toEqual(["before delete", "unread at delete", "re-created 1", "re-created 2"]);
    expect(events(env.db, "notice").length).toBe(1);
    expect(logStatus(env.db)[0].missing).toBe(false);
    await task.stop();
  });

  test("a log that does not exist yet: one notice (also across restarts), read from its start when it appears (via fs.watch)", async () => {
    const env = makeEnv();
    writeRules(env.rules, {});
    const log = env.config.logs[0].path;
    let task = start(env);
    await task.settle();
    await task.settle();
    await task.stop();
    task = start(env);
    await task.settle();
    const n = events(env.db, "notice");
    expect(n.length).toBe(1);
    expect(n[0].text).toContain("does not exist");
    expect(n[0].subject).toBe(log);
    writeFileSync(log, "born 1\nborn 2\n");
    expect(await until(() => texts(env.db).length === 2)).toBe(true); // no settle: the directory watch wakes it
    expect(texts(env.db)).toEqual(["born 1", "born 2"]);
    await task.stop();
  });

  test("deleted while the daemon is down and re-created: lost lines are announced, the new file is read from 0", async () => {
    const { env, log } = await following(RULES);
    let task = env.tasks[0];
    appendFileSync(log, "kept\n");
    await task.settle();
    await task.stop();
    unlinkSync(log);
    await sleep(5);
    writeFileSync(log, "fresh\n");
    task = start(env);
    await task.settle();
    expect(texts(env.db)).toEqual(["kept", "fresh"]);
    const n = events(env.db, "notice");
    // the inode may be reused by the new file: then it is caught by the fingerprint (rewritten), else as gone
    expect(n.length).toBe(1);
    await task.stop();
  });
});

test("rotated twice while the daemon was down: the oldest is finished, the skipped file is named in a notice", async () => {
  const { env, log } = await following({});
  let task = env.tasks[0];
  appendFileSync(log, "g1\n");
  await task.settle();
  await task.stop();
  appendFileSync(log, "g2\n");
  renameSync(log, `${log}.1`);
  writeFileSync(log, "h1 in the middle file\n");
  await sleep(20); // distinct mtimes
  renameSync(`${log}.1`, `${log}.2`);
  renameSync(log, `${log}.1`);
  appendFileSync(`${log}.1`, "h2\n");
  writeFileSync(log, "i1\n");
  task = start(env);
  await task.settle();
  expect(texts(env.db)).toEqual(["g1", "g2", "i1"]);
  const n = events(env.db, "notice");
  expect(n.length).toBe(1);
  expect(n[0].text).toContain("rotated more than once");
  expect(n[0].text).toContain("app.log.1");
  await task.stop();
});

test("a log path that is a directory: one notice, no crash; followed once a regular file takes its place", async () => {
  const env = makeEnv();
  writeRules(env.rules, {});
  const log = env.config.logs[0].path;
  mkdirSync(log);
  const task = start(env);
  await task.settle();
  await task.settle();
  const n = events(env.db, "notice");
  expect(n.length).toBe(1);
  expect(n[0].text).toContain("is not a regular file");
  rmdirSync(log);
  writeFileSync(log, "now a file\n");
  await task.settle();
  expect(texts(env.db)).toEqual(["now a file"]);
  await task.stop();
});

test("truncated and written again past the offset with the same first 256 bytes: read again from 0, every new line queued once, with a notice", async () => {
  const { env, log, task } = await following(RULES);
  const header = "Jan  1 00:00:00 host app: the same header line in both files ".padEnd(299, "=") + "\n"; // > FP_LEN bytes
  const old = Array.from({ length: 399 }, (_, i) => `Jan  1 00:00:01 host app: old line ${i}`);
  appendFileSync(log, header + old.join("\n") + "\n");
  await task.settle();
  expect(texts(env.db).length).toBe(400);
  const fresh = Array.from({ length: 399 }, (_, i) => `Feb  2 00:00:02 host app: new line ${i}, longer than the old ones`);
  writeFileSync(log, header + fresh.join("\n") + "\n"); // truncate + rewrite, same inode, larger than before
  await task.settle();
  const after = texts(env.db).slice(400);
  expect(after).toEqual([header.trimEnd(), ...fresh]);
  const n = events(env.db, "notice");
  expect(n.length).toBe(1);
  expect(n[0].text).toContain("truncated or rewritten");
  appendFileSync(log, "Feb  2 00:00:03 host app: appended later\n"); // an ordinary append after that: no notice
  await task.settle();
  expect(texts(env.db).slice(-1)).toEqual(["Feb  2 00:00:03 host app: appended later"]);
  expect(events(env.db, "notice").length).toBe(1);
  await task.stop();
});
