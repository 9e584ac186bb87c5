// The compiled-rules cache (src/rules/cache.ts): a second load of the same
// rules comes from the cache with the same verdicts; a damaged, truncated or
// mismatching entry is one notice and a fresh compile; a changed rule file
// misses; the table keeps the last few; --test-rules trusts only a database
// nobody else can write (a planted entry in a user's database is ignored).

import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { chmodSync, chownSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { initDatabase } from "../../src/db/db.ts";
import { embeddedRules } from "../../src/embedded.ts";
import { dbRuleCache, KEEP, openEntry, openTrustedCache, ruleSetCacheKey, sealEntry, sha256 } from "../../src/rules/cache.ts";
import { selectRules } from "../../src/rules/home.ts";
import { loadRuleSet } from "../../src/rules/load.ts";
import { encodeSnapshot } from "../../src/rules/snapshot.ts";
import { runTestRules } from "../../src/rules/testrules.ts";
import { tempDir } from "../support/binary.ts";
import { tempDatabase } from "../support/db.ts";
import { throwawayUser } from "../support/users.ts";
import { classifierOf, makeHomeIn, memoryCache, titles } from "./helpers.ts";

/** A copy with its last 32-bit integer (a trie edge's target) set out of range. */
function flipLast(b: Uint8Array): Uint8Array {
  const c = new Uint8Array(b);
  new DataView(c.buffer).setInt32(c.length - 4, 0x7fffffff, true);
  return c;
}

const H = "Nov 25 10:00:00 host";
const LINES = [
  `${H} sshd[1]: Accepted publickey for alice from 192.0.2.9 port 5555 ssh2`,
  `${H} sshd[1]: Invalid user admin from 192.0.2.9 port 22`,
  `${H} su[123]: FAILED SU (to root) alice on pts/1`,
  `${H} kernel: [ 12.345] end_request: I/O error, dev sda, sector 1234`,
  `${H} CRON[4242]: pam_unix(cron:session): session closed for user root`,
  `${H} something nobody wrote a rule for`,
  "no syslog prefix",
];

const TREE = {
  "cracking.d/logcheck": "^.* FAILED SU .*$\n",
  "violations.d/sshd": "Invalid user\n",
  "ignore.d.server/cron": "^\\w{3} [ :[:digit:]]{11} [._[:alnum:]-]+ CRON\\[[0-9]+\\]: pam_unix\\(cron:session\\): session (opened|closed) for user root\n",
  "ignore.d.server/risky": "^.* sshd\\[[0-9]+\\]: (Accepted|Failed) (publickey|password)+ for [^ ]+ from [.0-9]+ port [0-9]+( ssh2)?$\n",
};

test("a second load comes from the cache, with the same verdicts and explanations", async () => {
  const cache = memoryCache();
  const cold = await loadRuleSet({ tree: embeddedRules() }, "server", { cache });
  expect(cold.cached).toBe(false);
  expect(cache.puts).toBe(1);
  const warm = await loadRuleSet({ tree: embeddedRules() }, "server", { cache });
  expect(warm.cached).toBe(true);
  expect(warm.cacheNotice).toBeNull();
  expect(warm.summary).toContain("from the compiled-rules cache");
  expect(cache.puts).toBe(1);
  expect(warm.risky).toEqual(cold.risky);
  expect(warm.classifier.sectionTitles()).toEqual(cold.classifier.sectionTitles());
  for (const l of LINES) expect(warm.classifier.explain(l)).toEqual(cold.classifier.explain(l));
});

test("damaged, truncated and foreign entries: one notice, a fresh compile, right verdicts, the entry replaced", async () => {
  const cache = memoryCache();
  const ref = classifierOf(TREE, "server");
  await loadRuleSet({ tree: TREE }, "server", { cache });
  const [key] = [...cache.map.keys()];
  const good = cache.map.get(key)!;
  const flipped = new Uint8Array(good.value); // a copy (Buffer.slice would be a view)
  flipped[flipped.length >> 1] ^= 0x40;
  const truncated = good.value.slice(0, good.value.length >> 1);
  const foreign = new TextEncoder().encode("not a snapshot at all");
  const cases: Array<[string, { sum: string; value: Uint8Array }, string]> = [
    ["a flipped byte", { sum: good.sum, value: flipped }, "checksum mismatch"],
    ["truncated, checksum recomputed", { sum: sha256(truncated), value: truncated }, "damaged"],
    ["foreign bytes, checksum recomputed", { sum: sha256(foreign), value: foreign }, "damaged"],
    ["a cut snapshot, sealed again", sealEntry(openEntry(good).slice(0, 5000)), "damaged snapshot"],
    ["a snapshot with a byte changed in its integers, sealed again", sealEntry(flipLast(openEntry(good))), "damaged"],
    ["an empty value", { sum: "", value: new Uint8Array(0) }, "checksum mismatch"],
  ];
  for (const [what, entry, why] of cases) {
    cache.map.set(key, entry);
    const r = await loadRuleSet({ tree: TREE }, "server", { cache });
    expect(r.cached, what).toBe(false);
    expect(r.cacheNotice, what).toContain(why);
    expect(r.cacheNotice, what).toContain("compiled afresh");
    for (const l of LINES) expect(titles(r.classifier.classify(l)), what).toEqual(titles(ref.classify(l)));
    expect(sha256(cache.map.get(key)!.value), what).toBe(cache.map.get(key)!.sum); // replaced by a good entry
  }
  const again = await loadRuleSet({ tree: TREE }, "server", { cache });
  expect(again.cached).toBe(true);
});

test("the key covers the rule files, the level and cracking-ignore: a change misses", async () => {
  const key = (tree: Record<string, string>, level: "server" | "workstation" = "server", ci = false) => ruleSetCacheKey(selectRules(tree, level, ci));
  const k = key(TREE);
  expect(key({ ...TREE })).toBe(k);
  expect(key({ ...TREE, "violations.d/sshd": "Invalid user \n" })).not.toBe(k);
  expect(key({ ...TREE, "violations.d/sshd2": "Invalid user\n" })).not.toBe(k);
  expect(key({ ...TREE, "violations.d/sshd": "# a comment moves the rule\nInvalid user\n" })).not.toBe(k);
  expect(key(TREE, "workstation")).not.toBe(k);
  expect(key({ ...TREE, "cracking.ignore.d/logcheck": "x\n" }, "server", true)).not.toBe(key({ ...TREE, "cracking.ignore.d/logcheck": "x\n" }, "server", false));
  // a changed file on disk: the next load compiles and says what it now matches
  const { dir, cleanup } = tempDir("rule-cache-");
  try {
    const cache = memoryCache();
    const home = makeHomeIn(dir, "home", TREE);
    const line = `${H} sshd[1]: Invalid user admin from 192.0.2.9 port 22`;
    expect(titles((await loadRuleSet({ home }, "server", { cache })).classifier.classify(line))).toEqual(["Security Events for sshd"]);
    expect((await loadRuleSet({ home }, "server", { cache })).cached).toBe(true);
    await Bun.write(join(home, "violations.d/sshd"), "Invalid group\n");
    const r = await loadRuleSet({ home }, "server", { cache });
    expect(r.cached).toBe(false);
    expect(titles(r.classifier.classify(line))).toEqual(["System Events"]);
  } finally {
    cleanup();
  }
});

test("the database table: round trip, checksum kept, the last KEEP entries written are kept", () => {
  const t = tempDatabase();
  try {
    const store = dbRuleCache(t.db);
    expect(store.get("nothing")).toBeNull();
    const bytes = encodeSnapshot(classifierOf(TREE, "server"));
    const e = sealEntry(bytes);
    store.put("k0", e.sum, e.value);
    const got = store.get("k0")!;
    expect(got.sum).toBe(e.sum);
    expect(Buffer.from(openEntry(got)).equals(Buffer.from(bytes))).toBe(true);
    for (let i = 1; i <= KEEP + 2; i++) store.put(`k${i}`, "s", new Uint8Array([i]));
    const keys = (t.db.query("SELECT key FROM rule_cache ORDER BY key").all() as Array<{ key: string }>).map((r) => r.key);
    expect(keys.length).toBe(KEEP);
    expect(keys).not.toContain("k0");
    expect(keys).toContain(`k${KEEP + 2}`);
  } finally {
    t.cleanup();
  }
});

test("--test-rules trusts a database only when nobody else can write it", () => {
  const { dir, cleanup } = tempDir("rule-cache-trust-");
  try {
    chmodSync(dir, 0o700);
    const ok = join(dir, "ok.sqlite");
    initDatabase(ok);
    const opened = openTrustedCache(ok);
    expect("store" in opened).toBe(true);
    if ("db" in opened) opened.db.close();
    chmodSync(ok, 0o666);
    expect((openTrustedCache(ok) as { why: string }).why).toContain("writable");
    chmodSync(ok, 0o600);
    const open = join(dir, "open");
    mkdirSync(open, { mode: 0o777 });
    chmodSync(open, 0o777);
    const inOpen = join(open, "db.sqlite");
    initDatabase(inOpen);
    expect("why" in openTrustedCache(inOpen)).toBe(true);
    const link = join(dir, "link.sqlite");
    symlinkSync(ok, link);
    expect("why" in openTrustedCache(link)).toBe(true);
    expect((openTrustedCache(join(dir, "missing.sqlite")) as { why: string }).why).toBeTruthy();
    // a database without the table yet (an older one): no cache, no table created behind its back
    const old = join(dir, "old.sqlite");
    initDatabase(old);
    const raw = new Database(old);
    raw.exec("DROP TABLE rule_cache");
    raw.close();
    expect((openTrustedCache(old) as { why: string }).why).toContain("rule_cache");
  } finally {
    cleanup();
  }
});

test("attack: an entry planted in a database another user can write is never used", async () => {
  const user = throwawayUser("planted rule cache");
  if (user === null) return;
  const { dir, cleanup } = tempDir("rule-cache-plant-");
  try {
    chmodSync(dir, 0o755);
    const home = makeHomeIn(dir, "rules", TREE);
    const mine = join(dir, "mine");
    mkdirSync(mine, { mode: 0o700 });
    const db = join(mine, "db.sqlite");
    initDatabase(db);
    // the attacker's entry: under the key of the real rules, a rule set that ignores every line
    const key = ruleSetCacheKey(selectRules(TREE, "server", false));
    const evil = sealEntry(encodeSnapshot(classifierOf({ "ignore.d.server/all": ".*\n" }, "server")));
    const plant = () => {
      const w = new Database(db);
      w.query("INSERT OR REPLACE INTO rule_cache (key, sum, value, created) VALUES (?, ?, ?, ?)").run(key, evil.sum, evil.value, Date.now());
      w.close();
    };
    const line = `${H} su[123]: FAILED SU (to root) alice on pts/1\n`;
    const input = join(dir, "in.log");
    await Bun.write(input, line);
    const runIt = async () => {
      let out = "";
      const code = await runTestRules({ input, rulesHome: home, embedded: {}, level: "server", crackingIgnore: false, explain: true, database: db, out: (s) => { out += s; }, err: () => {} });
      return { code, out };
    };
    // the entry works when the database is trusted (so the attack below is real) ...
    plant();
    const trusted = await runIt();
    expect(trusted.out).toContain("from the compiled-rules cache");
    expect(trusted.code).toBe(0); // the planted rules ignore the break-in line
    // ... and is not read from a database the user owns, nor from one in a directory the user owns
    chownSync(db, user.uid, user.gid);
    const owned = await runIt();
    expect(owned.out).toContain("no compiled-rules cache");
    expect(owned.out).toContain("Security Alerts");
    expect(owned.code).toBe(1);
    chownSync(db, 0, 0);
    chownSync(mine, user.uid, user.gid);
    const inDir = await runIt();
    expect(inDir.out).toContain("no compiled-rules cache");
    expect(inDir.code).toBe(1);
  } finally {
    cleanup();
    user.remove();
  }
});
