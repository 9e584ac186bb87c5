// What root may trust: the pure per-component rule, then real attacks by a
// throwaway local user on the config, the sendmail program and a rules home.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig, LOCAL_SENDMAIL } from "../../src/config/load.ts";
import { componentProblem, untrustedPath, untrustedRulesHome } from "../../src/config/trust.ts";
import { tempDir } from "../support/binary.ts";
import { throwawayUser, type User } from "../support/users.ts";

const DIR = 0o040000, FILE = 0o100000;

describe("componentProblem (pure)", () => {
  test("root- or self-owned, not writable by others: trusted", () => {
    expect(componentProblem({ uid: 0, gid: 0, mode: FILE | 0o600 }, 0)).toBeNull();
    expect(componentProblem({ uid: 0, gid: 0, mode: DIR | 0o775 }, 0)).toBeNull(); // group root may write
    expect(componentProblem({ uid: 1000, gid: 1000, mode: FILE | 0o644 }, 1000)).toBeNull();
  });
  test("another owner, others' write bit, a foreign group's write bit: refused", () => {
    expect(componentProblem({ uid: 1000, gid: 1000, mode: FILE | 0o600 }, 0)).toBe("owned by uid 1000");
    expect(componentProblem({ uid: 0, gid: 0, mode: FILE | 0o666 }, 0)).toContain("writable by others (mode 0666)");
    expect(componentProblem({ uid: 0, gid: 50, mode: FILE | 0o664 }, 0)).toContain("writable by group 50");
    expect(componentProblem({ uid: 0, gid: 0, mode: DIR | 0o777 }, 0)).toContain("writable by others");
  });
  test("a sticky directory writable by all (/tmp) is a trusted parent", () => {
    expect(componentProblem({ uid: 0, gid: 0, mode: DIR | 0o1777 }, 0)).toBeNull();
  });
});

describe("attacks by a local user", () => {
  let user: User | null = null;
  let dir = "";
  let cleanup = () => {};
  beforeAll(() => {
    ({ dir, cleanup } = tempDir("integrityd-trust-"));
    chmodSync(dir, 0o755);
    user = throwawayUser("config trust attacks");
  });
  afterAll(() => {
    user?.remove();
    cleanup();
  });

  const good = (name: string, extra = "") => {
    const p = join(dir, name);
    writeFileSync(p, `email = none\ndatabase = ${join(dir, "db.sqlite")}\n${extra}`, { mode: 0o600 });
    return p;
  };
  const refusal = (path: string): string => {
    try {
      loadConfig(path);
    } catch (e) {
      if (e instanceof ConfigError) return e.messages.join("\n");
      throw e;
    }
    return "";
  };

  test("a config of mode 0666 is refused, not warned about", () => {
    const p = good("open.conf");
    chmodSync(p, 0o666);
    expect(refusal(p)).toContain("writable by others (mode 0666)");
  });

  test("a config owned by a user, reached through a root-owned symlink, is refused", () => {
    if (!user) return;
    const home = join(dir, "userdir");
    mkdirSync(home, { mode: 0o700 });
    chownSync(home, user.uid, user.gid);
    const theirs = join(home, "evil.conf");
    const w = user.run(["/bin/sh", "-c", `umask 077; printf 'email = none\\nsendmail = ${home}/x\\n' > ${theirs}`]);
    expect(w.code).toBe(0);
    const link = join(dir, "linked.conf");
    symlinkSync(theirs, link);
    const why = refusal(link);
    expect(why).toContain(`${home} is owned by uid ${user.uid}`);
    expect(untrustedPath(link)).toContain(`owned by uid ${user.uid}`);
  });

  test("a symlink planted by a user in a sticky directory is refused even when it points at a root file", () => {
    if (!user) return;
    const sticky = join(dir, "sticky");
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    const target = good("target.conf");
    const planted = join(sticky, "planted.conf");
    expect(user.run(["/bin/ln", "-s", target, planted]).code).toBe(0);
    expect(untrustedPath(planted)).toContain("symbolic link owned by uid");
    expect(untrustedPath(target)).toBeNull();
  });

  test("a sendmail program in a user's directory is refused; a root one is accepted", () => {
    if (!user) return;
    const ubin = join(dir, "ubin");
    mkdirSync(ubin, { mode: 0o755 });
    chownSync(ubin, user.uid, user.gid);
    const prog = join(ubin, "sendmail");
    writeFileSync(prog, "#!/bin/sh\nexit 0\n", { mode: 0o755 }); // root-owned file, but the user may replace it
    expect(refusal(good("mta-user.conf", `sendmail = ${prog}\n`))).toContain(`sendmail ${prog} refused: ${ubin} is owned by uid ${user.uid}`);
    const rbin = join(dir, "rbin");
    mkdirSync(rbin, { mode: 0o755 });
    writeFileSync(join(rbin, "sendmail"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    expect(refusal(good("mta-root.conf", `sendmail = ${join(rbin, "sendmail")}\n`))).toBe("");
  });

  test("a rules home with a rule file a user may write is refused; a missing home is not", () => {
    if (!user) return;
    const home = join(dir, "logcheck");
    mkdirSync(join(home, "ignore.d.server"), { recursive: true, mode: 0o755 });
    const rule = join(home, "ignore.d.server", "local");
    writeFileSync(rule, "^ok$\n", { mode: 0o644 });
    const conf = good("rules.conf", `logrules = server:${home}\nlog = ${join(dir, "syslog")}\n`);
    expect(refusal(conf)).toBe("");
    chownSync(rule, user.uid, user.gid);
    expect(refusal(conf)).toContain(`rules home ${home} refused: ${rule} is owned by uid ${user.uid}`);
    expect(untrustedRulesHome(join(dir, "no-such-home"))).toBeNull();
  });
  test("an area that is a root-made symlink is resolved once and said; a user's symlink is refused", () => {
    const usr = join(dir, "usr-bin");
    mkdirSync(usr, { mode: 0o755 });
    const bin = join(dir, "bin");
    symlinkSync(usr, bin);
    const res = loadConfig(good("area-link.conf", `area = ${bin}\n`));
    expect(res.config.areas).toEqual([usr]);
    expect(res.warnings.map((w) => w.message)).toContain(`area ${bin} is a symbolic link to ${usr}; checking ${usr}`);
    if (!user) return;
    const planted = join(dir, "sticky-area");
    mkdirSync(planted);
    chmodSync(planted, 0o1777);
    const link = join(planted, "www");
    expect(user.run(["/bin/ln", "-s", "/etc", link]).code).toBe(0);
    expect(refusal(good("area-user.conf", `area = ${link}\n`))).toContain(`area ${link} is a symbolic link that could be pointed elsewhere`);
  });
});

test("no transport named: the local MTA's sendmail when it exists, SMTP otherwise; a named smtp always wins", () => {
  const { dir, cleanup } = tempDir("integrityd-mta-");
  try {
    const write = (name: string, body: string) => {
      const p = join(dir, name);
      writeFileSync(p, `email = root\ndatabase = ${join(dir, "db.sqlite")}\n${body}`, { mode: 0o600 });
      return p;
    };
    const local = Bun.file(LOCAL_SENDMAIL).size > 0 || existsSync(LOCAL_SENDMAIL);
    if (!local) console.error(`note: ${LOCAL_SENDMAIL} does not exist here; only the SMTP half of this test runs`);
    expect(loadConfig(write("none.conf", "")).config.sendmail).toBe(local ? LOCAL_SENDMAIL : "");
    expect(loadConfig(write("smtp.conf", "smtp = relay.example:25\n")).config.sendmail).toBe("");
  } finally {
    cleanup();
  }
});
