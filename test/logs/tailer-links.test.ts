// The log follower against a local user who may write to a log's directory
// (attack tests with a throwaway useradd user; skipped, with a line on stderr,
// when not root): a log replaced by a symbolic link to a root-only file never
// has that file read, only a notice; a followed file that changes owner is a
// notice; a link the config names by its target, or root's in a directory only
// root may write to, is still followed.
import { afterEach, expect, test } from "bun:test";
import { appendFileSync, chmodSync, chownSync, lchownSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { throwawayUser, type User } from "../support/users.ts";
import { cleanupAll, type Env, events, makeEnv, start, texts, writeRules } from "./helpers.ts";

const RULES = { "ignore.d.server/test": "^ignored\n" };
const users: User[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await cleanupAll();
  while (users.length) users.pop()!.remove();
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

function user(why: string): User | null {
  const u = throwawayUser(why);
  if (u) users.push(u);
  return u;
}

/** A root-only file (0600 in a 0700 directory) holding a secret line; returns its path and the secret. */
function rootSecret(): { path: string; secret: string } {
  const d = mkdtempSync(join(tmpdir(), "integrityd-secret-"));
  dirs.push(d);
  const secret = `TOPSECRET-${Math.random().toString(36).slice(2)}`;
  const path = join(d, "shadow");
  writeFileSync(path, `root:${secret}:19000:0:99999:7:::\n`, { mode: 0o600 });
  return { path, secret };
}

/** An Env whose log directory belongs to `u` (and the temp dir above it can be traversed). */
function envWithUserDir(u: User, logs?: string[]): Env {
  const env = makeEnv(logs);
  writeRules(env.rules, RULES);
  chmodSync(env.dir, 0o755);
  chownSync(join(env.dir, "logs"), u.uid, u.gid);
  return env;
}

/** Every queued event as one string (kind, subject, text, details). */
const everything = (env: Env) => events(env.db).map((e) => `${e.kind} ${e.subject} ${e.text} ${e.details}`).join("\n");
const linkNotices = (env: Env) => events(env.db, "notice").filter((e) => e.text.includes("symbolic link"));

test("a log replaced by a symlink to a root-only file by the user owning its directory: the file is never read, a notice is", async () => {
  const u = user("symlinked log attack");
  if (!u) return;
  const { path: shadow, secret } = rootSecret();
  const env = envWithUserDir(u);
  const log = env.config.logs[0].path;
  const as = (script: string) => expect(u.run(["/bin/sh", "-c", script]).code).toBe(0);
  as(`: > ${log}`);
  let task = start(env);
  await task.settle();
  as(`echo 'app: before' >> ${log}`);
  await task.settle();
  expect(texts(env.db)).toEqual(["app: before"]);

  // replaced by a link (unlink + symlink), the secret file grows meanwhile
  as(`echo 'app: last words' >> ${log} && ln -sf ${shadow} ${log}`);
  await task.settle();
  appendFileSync(shadow, `root2:${secret}:more\n`);
  await task.settle();
  await task.settle();
  expect(texts(env.db)).toEqual(["app: before", "app: last words"]); // the old file finished, nothing from the link
  expect(linkNotices(env).length).toBe(1); // once, not at every pass

  // a regular file again, then renamed away and the path made a link (a rename rotation): the old file is still read
  as(`rm ${log} && echo 'app: back' > ${log}`);
  await task.settle();
  as(`mv ${log} ${log}.1 && ln -s ${shadow} ${log} && echo 'app: after the rename' >> ${log}.1`);
  await task.settle();
  expect(texts(env.db)).toEqual(["app: before", "app: last words", "app: back", "app: after the rename"]);

  // a restart: the followed file is found by inode among the siblings, the link still refused;
  // then the sibling itself replaced by a link to the secret while we are down
  await task.stop();
  task = start(env);
  await task.settle();
  await task.stop();
  as(`rm ${log}.1 && ln -s ${shadow} ${log}.1 && ln -s ${shadow} ${log}-20240101`);
  task = start(env);
  await task.settle();
  await task.settle();
  await task.stop();

  expect(everything(env)).not.toContain(secret);
  expect(everything(env)).not.toContain("root2");
  expect(linkNotices(env).length).toBeGreaterThanOrEqual(2); // again after each restart
  expect(linkNotices(env)[0].text).toContain(shadow);
  expect(linkNotices(env)[0].section).toBe("Log Monitoring Notices");
}, 30_000);

test("a link planted before the log was ever seen, and a dangling one: a notice, never the content", async () => {
  const u = user("symlinked log before first sight");
  if (!u) return;
  const { path: shadow, secret } = rootSecret();
  const env = envWithUserDir(u, ["app.log", "other.log"]);
  const [log, other] = env.config.logs.map((l) => l.path);
  expect(u.run(["/bin/ln", "-s", shadow, log]).code).toBe(0);
  expect(u.run(["/bin/ln", "-s", join(dirname(shadow), "not-yet"), other]).code).toBe(0);
  const task = start(env);
  await task.settle();
  appendFileSync(shadow, `x:${secret}\n`);
  writeFileSync(join(dirname(shadow), "not-yet"), `y:${secret}\n`, { mode: 0o600 });
  await task.settle();
  await task.settle();
  await task.stop();
  expect(everything(env)).not.toContain(secret);
  expect(linkNotices(env).map((e) => e.subject).sort()).toEqual([log, other]);
});

test("a followed log whose owner changes (chown, as a compromised logrotate might) or that is replaced by another user's file: a notice each", async () => {
  const u = user("log owner change");
  if (!u) return;
  const env = makeEnv();
  writeRules(env.rules, RULES);
  const log = env.config.logs[0].path;
  writeFileSync(log, "");
  const task = start(env);
  await task.settle();
  appendFileSync(log, "l1\n");
  await task.settle();
  expect(events(env.db, "notice")).toEqual([]);
  chownSync(log, u.uid, u.gid);
  appendFileSync(log, "l2\n");
  await task.settle();
  await task.settle();
  let n = events(env.db, "notice");
  expect(n.length).toBe(1);
  expect(n[0].text).toContain(`now belongs to uid ${u.uid}, not uid 0`);
  expect(texts(env.db)).toEqual(["l1", "l2"]); // still read: the notice says who may have written it
  // rotated: the new file is root's again
  renameSync(log, `${log}.1`);
  writeFileSync(log, "l3\n");
  await task.settle();
  n = events(env.db, "notice");
  expect(n.length).toBe(2);
  expect(n[1].text).toContain(`now belongs to uid 0, not uid ${u.uid}`);
  expect(texts(env.db)).toEqual(["l1", "l2", "l3"]);
  await task.stop();
});

test("a link the config names by its target is followed, even in a directory another user may write to", async () => {
  const u = user("named link target");
  if (!u) return;
  const env = envWithUserDir(u, ["link.log", "real.log"]);
  const [link, real] = env.config.logs.map((l) => l.path);
  writeFileSync(real, "");
  expect(u.run(["/bin/ln", "-s", real, link]).code).toBe(0);
  const task = start(env);
  await task.settle();
  appendFileSync(real, "through the named target\n");
  await task.settle();
  expect(events(env.db).map((e) => [e.subject, e.text]).sort()).toEqual([[link, "through the named target"], [real, "through the named target"]]);
  expect(linkNotices(env)).toEqual([]);
  await task.stop();
});

test("a link that root owns in a directory only root may write to is followed; in a group-writable directory, or the user's link, it is not", async () => {
  const env = makeEnv(["trusted.log", "loose/app.log", "theirs.log"]);
  writeRules(env.rules, RULES);
  const [trusted, loose, theirs] = env.config.logs.map((l) => l.path);
  const elsewhere = join(env.dir, "elsewhere");
  mkdirSync(elsewhere);
  const target = join(elsewhere, "real.log");
  writeFileSync(target, "");
  symlinkSync(target, trusted); // root's link in root's 0755 directory
  mkdirSync(dirname(loose), { mode: 0o775 });
  chmodSync(dirname(loose), 0o775); // group-writable
  symlinkSync(target, loose);
  symlinkSync(target, theirs);
  lchownSync(theirs, 4242, 4242); // a link owned by another user
  const task = start(env);
  await task.settle();
  appendFileSync(target, "seen through the link\n");
  await task.settle();
  expect(events(env.db).filter((e) => e.kind === "system").map((e) => e.subject)).toEqual([trusted]);
  expect(linkNotices(env).map((e) => e.subject).sort()).toEqual([loose, theirs].sort());
  await task.stop();
});
