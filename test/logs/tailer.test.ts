// The log follower's task end to end: first start at the end, classification into sections, bytes
// (NUL, invalid UTF-8), partial lines, over-long lines, status rows, latency.
import { afterEach, describe, expect, test } from "bun:test";
import { appendFileSync, closeSync, openSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { CUT_MARKER, MAX_LINE } from "../../src/logs/lines.ts";
import { logStatus } from "../../src/logs/status.ts";
import { cleanupAll, type Env, following, events, makeEnv, start, texts, until, writeRules } from "./helpers.ts";

afterEach(cleanupAll);

const RULES = {
  "cracking.d/sshd": "BREAK-IN ATTEMPT\n",
  "violations.d/sudo": "authentication failure\n",
  "ignore.d.server/test": "# comment\n^ignored \n",
};

describe("tailer", () => {
  test("first start follows an existing log from its end; new lines are queued in order with their section", async () => {
    const env = makeEnv();
    writeRules(env.rules, RULES);
    const log = env.config.logs[0].path;
    writeFileSync(log, "old history 1\nold history 2\n");
    const task = start(env);
    await task.settle();
    expect(events(env.db)).toEqual([]);
    appendFileSync(log, "hello world\nignored line\nsshd: POSSIBLE BREAK-IN ATTEMPT!\nsudo: pam_unix: authentication failure\nsecond system line  \t\n");
    await task.settle();
    const ev = events(env.db);
    expect(ev.map((e) => [e.kind, e.section, e.text, e.urgent])).toEqual([
      ["system", "System Events", "hello world", 0],
      ["alert", "Security Alerts for sshd", "sshd: POSSIBLE BREAK-IN ATTEMPT!", 1],
      ["violation", "Security Events for sudo", "sudo: pam_unix: authentication failure", 0],
      ["system", "System Events", "second system line", 0],
    ]);
    expect(ev.every((e) => e.subject === log)).toBe(true);
    const d = JSON.parse(ev[0].details);
    expect(d).toEqual({ log, offset: "old history 1\nold history 2\n".length, section: "System Events" });
    // status
    const st = logStatus(env.db);
    const size = Buffer.byteLength("old history 1\nold history 2\nhello world\nignored line\nsshd: POSSIBLE BREAK-IN ATTEMPT!\nsudo: pam_unix: authentication failure\nsecond system line  \t\n");
    expect(st).toEqual([{ path: log, offset: size, size, missing: false, updated: expect.any(Number) }]);
    await task.stop();
  });

  test("first start inside a partial last line reports that line once it is complete", async () => {
    const env = makeEnv();
    writeRules(env.rules, RULES);
    const log = env.config.logs[0].path;
    writeFileSync(log, "history\nhalf a li");
    const task = start(env);
    await task.settle();
    appendFileSync(log, "ne\n");
    await task.settle();
    expect(texts(env.db)).toEqual(["half a line"]);
    await task.stop();
  });

  test("a partial last line waits until its newline arrives", async () => {
    const { env, log, task } = await following(RULES);
    appendFileSync(log, "complete\nincompl");
    await task.settle();
    expect(texts(env.db)).toEqual(["complete"]);
    appendFileSync(log, "ete");
    await task.settle();
    expect(texts(env.db)).toEqual(["complete"]);
    appendFileSync(log, "\n");
    await task.settle();
    expect(texts(env.db)).toEqual(["complete", "incomplete"]);
    await task.stop();
  });

  test("NUL bytes and invalid UTF-8 are read 1:1, classified and escaped", async () => {
    const { env, log, task } = await following({ ...RULES, "ignore.d.server/bytes": "^drop\xe9me\n" });
    const fd = openSync(log, "a");
    writeSync(fd, Buffer.from([0x61, 0x00, 0x62, 0x0a])); // a NUL b
    writeSync(fd, Buffer.from([0xff, 0xfe, 0x63, 0xc3, 0x28, 0x0a])); // invalid UTF-8
    writeSync(fd, Buffer.from("caf\u00e9 ok\n", "utf8")); // valid UTF-8 stays readable
    writeSync(fd, Buffer.from([0x64, 0x72, 0x6f, 0x70, 0xe9, 0x6d, 0x65, 0x0a])); // "drop\xe9me": latin1 byte matched by the rule
    writeSync(fd, Buffer.from([0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x5c, 0x0a])); // ESC[31m and a backslash
    closeSync(fd);
    await task.settle();
    expect(texts(env.db)).toEqual(["a\\x00b", "\\xff\\xfec\\xc3(", "café ok", "\\x1b[31m\\\\"]);
    await task.stop();
  });

  test("a 10 MB line is reported cut with a marker, and the lines around it are intact", async () => {
    const { env, log, task } = await following(RULES);
    const fd = openSync(log, "a");
    writeSync(fd, "before\n");
    const block = Buffer.alloc(1 << 20, 0x78); // 1 MiB of 'x'
    block[0] = 0x41; // 'A' marks the start of the long line
    for (let i = 0; i < 10; i++) writeSync(fd, i === 0 ? block : block.fill(0x78));
    writeSync(fd, "\nafter\n");
    closeSync(fd);
    await task.settle();
    const t = texts(env.db);
    expect(t.length).toBe(3);
    expect(t[0]).toBe("before");
    expect(t[1].length).toBe(MAX_LINE + CUT_MARKER.length);
    expect(t[1].startsWith("Axxx")).toBe(true);
    expect(t[1].endsWith(CUT_MARKER)).toBe(true);
    expect(t[2]).toBe("after");
    expect(JSON.parse(events(env.db)[1].details).cut).toBe(true);
    await task.stop();
  });

  test("an over-long line still being written is cut once; its rest is skipped even across a restart", async () => {
    const { env, log } = await following(RULES);
    let task = env.tasks[0];
    appendFileSync(log, "y".repeat(MAX_LINE + 10));
    await task.settle();
    await task.stop();
    task = start(env);
    appendFileSync(log, "y".repeat(3 * MAX_LINE) + "\nnext\n");
    await task.settle();
    const t = texts(env.db);
    expect(t.length).toBe(2);
    expect(t[0]).toBe("y".repeat(MAX_LINE) + CUT_MARKER);
    expect(t[1]).toBe("next");
    await task.stop();
  });

  test("a line of exactly 64 KiB is not cut", async () => {
    const { env, log, task } = await following(RULES);
    appendFileSync(log, "z".repeat(MAX_LINE) + "\n");
    await task.settle();
    expect(texts(env.db)).toEqual(["z".repeat(MAX_LINE)]);
    await task.stop();
  });

  test("fs.watch: a line appended is queued without waiting for the poll (logchecktime = 1 hour)", async () => {
    const { env, log, task } = await following(RULES);
    expect(env.config.logchecktime).toBe(3600);
    appendFileSync(log, "watched line\n");
    // the next poll is an hour away: only the directory watch can bring the line in
    expect(await until(() => texts(env.db).length === 1, 5000)).toBe(true);
    expect(texts(env.db)).toEqual(["watched line"]);
    await task.stop();
  });

  test("several logs in different directories, each with its own position", async () => {
    const { env, logs: [a, b], task } = await following(RULES, { logs: ["a.log", "sub/b.log"] });
    appendFileSync(a, "from a\n");
    appendFileSync(b, "from b\n");
    await task.settle();
    expect(events(env.db).map((e) => [e.subject, e.text]).sort()).toEqual([[a, "from a"], [b, "from b"]]);
    expect(logStatus(env.db).map((r) => [r.path, r.offset])).toEqual([[a, 7], [b, 7]]);
    await task.stop();
  });

  test("a big backlog in one log does not hold back another log (bounded work per pass)", async () => {
    const { env, logs: [big, small], task } = await following(RULES, { logs: ["big.log", "small.log"] });
    const line = "b".repeat(999) + "\n";
    appendFileSync(big, line.repeat(20_000)); // 20 MB
    appendFileSync(small, "small news\n");
    await task.settle();
    const ev = events(env.db);
    expect(ev.length).toBe(20_001);
    const smallAt = ev.findIndex((e) => e.subject === small);
    expect(smallAt).toBeGreaterThan(0);
    expect(smallAt).toBeLessThan(ev.length - 1); // queued before the big log was finished
    await task.stop();
  });
});

test("a log that is a symlink to a file in another directory: lines arrive via the target directory's watch", async () => {
  const env = makeEnv();
  writeRules(env.rules, RULES);
  const log = env.config.logs[0].path;
  const realDir = join(env.dir, "elsewhere");
  require("node:fs").mkdirSync(realDir);
  const target = join(realDir, "real.log");
  writeFileSync(target, "");
  require("node:fs").symlinkSync(target, log);
  const task = start(env);
  await task.settle();
  appendFileSync(target, "through the link\n");
  expect(await until(() => texts(env.db).length === 1, 5000)).toBe(true);
  expect(texts(env.db)).toEqual(["through the link"]);
  await task.stop();
});
