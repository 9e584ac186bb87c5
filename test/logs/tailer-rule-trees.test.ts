// Rule trees in the log follower's task: reload on change without restart, broken rules,
// the embedded fallback, per-log rule homes and levels, config reload.
import { afterEach, describe, expect, test } from "bun:test";
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { logStatus } from "../../src/logs/status.ts";
import { cleanupAll, following, events, makeEnv, sleep, start, texts, writeRules } from "./helpers.ts";

afterEach(cleanupAll);

describe("tailer rules", () => {
  test("a changed rule file is picked up by the logruleupdate timer, without restart", async () => {
    const { env, log, task } = await following({ "ignore.d.server/local-app": "^noise\n" }, { config: { logruleupdate: 0.05 } });
    appendFileSync(log, "noise 1\nchatter 1\n");
    await task.settle();
    expect(texts(env.db)).toEqual(["chatter 1"]);
    writeRules(env.rules, { "ignore.d.server/local-app": "^noise\n^chatter\n" });
    await sleep(250); // several rescans
    appendFileSync(log, "noise 2\nchatter 2\nother 2\n");
    await task.settle();
    expect(texts(env.db)).toEqual(["chatter 1", "other 2"]);
    // a new file in another rule dir counts too
    writeRules(env.rules, { "cracking.d/app": "other\n" });
    await sleep(250);
    appendFileSync(log, "other 3\n");
    await task.settle();
    expect(events(env.db, "alert").map((e) => [e.section, e.text])).toEqual([["Security Alerts for app", "other 3"]]);
    await task.stop();
  });

  test("a broken rule is reported once with FILE:LINE (diagnostics and one notice); the other rules keep working", async () => {
    const { env, log, task } = await following({ "ignore.d.server/local-app": "^noise\n" }, { config: { logruleupdate: 0.05 } });
    // a new broken rule arrives with a good one
    writeRules(env.rules, { "ignore.d.server/local-app": "^noise\nbroken(\n^chatter\n" });
    await sleep(250);
    appendFileSync(log, "noise\nchatter\nbroken(\nreal news\n");
    await task.settle();
    expect(texts(env.db)).toEqual(["broken(", "real news"]);
    const n = events(env.db, "notice");
    expect(n.length).toBe(1);
    expect(n[0].text).toContain(`${join(env.rules, "ignore.d.server/local-app")}:2`);
    expect(n[0].text).toContain("Unmatched (");
    // another change elsewhere reloads the set: the known problem is not reported again
    writeRules(env.rules, { "ignore.d.server/other": "^more\n" });
    await sleep(250);
    appendFileSync(log, "more\nlast\n");
    await task.settle();
    expect(texts(env.db)).toEqual(["broken(", "real news", "last"]);
    expect(events(env.db, "notice").length).toBe(1);
    await task.stop();
  });

  test("run-parts names: editor backups and dpkg leftovers in a rule dir are not rules", async () => {
    const { env, log, task } = await following({ "ignore.d.server/app": "^one\n", "ignore.d.server/app~": "^two\n", "ignore.d.server/app.dpkg-old": "^three\n" });
    appendFileSync(log, "one\ntwo\nthree\n");
    await task.settle();
    expect(texts(env.db)).toEqual(["two", "three"]);
    await task.stop();
  });

  test("a rules home that does not exist: the embedded default tree, one notice (not repeated after a restart); the home is used once it appears", async () => {
    const env = makeEnv();
    env.config.logruleupdate = 0.05;
    const log = env.config.logs[0].path;
    writeFileSync(log, "");
    let task = start(env);
    await task.settle();
    appendFileSync(log, "a line\n");
    await task.settle();
    await task.stop();
    task = start(env);
    await task.settle();
    appendFileSync(log, "another line\n");
    await task.settle();
    const n = events(env.db, "notice");
    expect(n.length).toBe(1);
    expect(n[0].text).toContain("embedded default rules");
    expect(n[0].text).toContain(env.rules);
    // the home appears: reloaded from it
    writeRules(env.rules, { "ignore.d.server/local": "^hidden\n" });
    await sleep(250);
    appendFileSync(log, "hidden\nshown\n");
    await task.settle();
    expect(texts(env.db).slice(-1)).toEqual(["shown"]);
    expect(texts(env.db)).not.toContain("hidden");
    await task.stop();
  });

  test("each log uses the rules home and level in force above it", async () => {
    const env = makeEnv(["host.log", "container.log"]);
    const other = join(env.dir, "container-rules");
    writeRules(env.rules, { "ignore.d.server/a": "^server-noise\n", "ignore.d.workstation/a": "^desk-noise\n" });
    writeRules(other, { "ignore.d.paranoid/b": "^container-noise\n" });
    env.config.logs[0].level = "workstation";
    env.config.logs[1].rules = other;
    env.config.logs[1].level = "paranoid";
    const [host, cont] = env.config.logs.map((l) => l.path);
    writeFileSync(host, "");
    writeFileSync(cont, "");
    const task = start(env);
    await task.settle();
    const lines = "server-noise\ndesk-noise\ncontainer-noise\n";
    appendFileSync(host, lines);
    appendFileSync(cont, lines);
    await task.settle();
    const got = events(env.db).map((e) => [e.subject === host ? "host" : "cont", e.text]);
    expect(got.filter(([w]) => w === "host")).toEqual([["host", "container-noise"]]);
    expect(got.filter(([w]) => w === "cont")).toEqual([["cont", "server-noise"], ["cont", "desk-noise"]]);
    await task.stop();
  });

  test("reload(config): a new log starts at its end, a removed log is forgotten, a new rules home applies", async () => {
    const env = makeEnv(["one.log"]);
    writeRules(env.rules, { "ignore.d.server/a": "^quiet\n" });
    const one = env.config.logs[0].path;
    const two = join(env.dir, "logs", "two.log");
    writeFileSync(one, "");
    writeFileSync(two, "history of two\n");
    const task = start(env);
    await task.settle();
    const other = join(env.dir, "rules2");
    writeRules(other, { "ignore.d.server/a": "^loud\n" });
    const c2 = { ...env.config, logs: [{ path: two, level: "server" as const, rules: other, line: 1 }] };
    await task.reload!(c2);
    await task.settle();
    expect(logStatus(env.db).map((r) => r.path)).toEqual([two]);
    appendFileSync(two, "quiet\nloud\n");
    appendFileSync(one, "not followed any more\n");
    await task.settle();
    expect(texts(env.db)).toEqual(["quiet"]);
    await task.stop();
  });

  test("crackingignore = yes applies cracking.ignore.d", async () => {
    const { env, log } = await following({ "cracking.d/sshd": "Invalid user\n", "cracking.ignore.d/sshd": "Invalid user scanner\n" });
    let task = env.tasks[0];
    appendFileSync(log, "sshd: Invalid user scanner\n");
    await task.settle();
    expect(events(env.db, "alert").length).toBe(1);
    await task.stop();
    env.config.crackingignore = true;
    task = start(env);
    await task.settle();
    appendFileSync(log, "sshd: Invalid user scanner\nsshd: Invalid user root\n");
    await task.settle();
    expect(events(env.db, "alert").map((e) => e.text)).toEqual(["sshd: Invalid user scanner", "sshd: Invalid user root"]);
    await task.stop();
  });
});
