// The walk workers: the pool's answers (worker or this thread) agree with the
// reader's, odd bytes included, and the main thread helps when workers are busy.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, closeSync, constants, copyFileSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathFrom } from "../../src/scan/paths.ts";
import { HashPool } from "../../src/scan/pool.ts";
import { statEntry } from "../../src/scan/reader.ts";
import { BIN, run, tempDir, writeConfig } from "../support/binary.ts";
import { sha256 } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "integrityd-pool-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("pool", () => {
  test("worker walk: list and visitMany agree with lstat, readlink, readdir and the hash, odd bytes included", async () => {
    const sub = Buffer.concat([Buffer.from(join(dir, "walk")), Buffer.from([0x01])]);
    fs.mkdirSync(sub);
    const name = (s: string) => Buffer.from(s, "latin1");
    const file = name("f\x01\xff\n");
    const link = name("l\x02");
    const data = Buffer.alloc(70_000, 3);
    writeFileSync(Buffer.concat([sub, name("/"), file]), data);
    fs.symlinkSync(Buffer.concat([name("/target\x01"), Buffer.from([0xfe])]), Buffer.concat([sub, name("/"), link]));
    expect(Bun.spawnSync(["mkfifo", Buffer.concat([sub, name("/fifo")]).toString("latin1")]).exitCode).toBe(0);
    // two workers; none (all on this thread); one worker with this thread helping
    const dfd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    const subName = sub.subarray(dir.length + 1);
    for (const [workers, help] of [[2, false], [0, false], [1, true]] as const) {
      const pool = new HashPool(workers, help);
      expect((await pool.list(dfd, pathFrom("nope"), "sha256")).stat).toMatchObject({ ok: false, code: "ENOENT" });
      const top = await pool.list(dfd, subName, "sha256");
      const st = statEntry(sub);
      expect(top.stat).toEqual(st);
      expect(top.hash).toBeNull();
      expect(top.listing && top.listing.ok && top.listing.names.map((n) => n.toString("hex")).sort()).toEqual([file, link, name("fifo")].map((n) => n.toString("hex")).sort());
      // the directory's own descriptor comes back open: its children are reached through it
      const subfd = top.fd!;
      expect(fs.fstatSync(subfd, { bigint: true }).ino).toBe(st.ok ? st.attrs.ino : -1n);
      const many = await pool.visitMany(subfd, [file, link, name("fifo"), name("gone")], "sha256");
      expect(many.map((v) => v.stat)).toEqual([file, link, name("fifo"), name("gone")].map((n) => statEntry(Buffer.concat([sub, name("/"), n]))));
      expect(many[0].hash).toMatchObject({ kind: "ok", hash: sha256(data), bytes: data.length });
      expect(many[1].stat.ok && Buffer.from(many[1].stat.attrs.target!).toString("hex")).toBe("2f74617267657401fe");
      expect(many[2].stat.ok && many[2].stat.attrs.type).toBe("fifo"); // recorded, never opened
      expect(many.slice(1).map((v) => v.hash)).toEqual([null, null, null]);
      expect(many[3].stat).toMatchObject({ ok: false, code: "ENOENT" });
      // a plain file listed: a visit with its hash, no listing
      const one = await pool.list(subfd, file, "sha256");
      expect(one.listing).toBeNull();
      expect(one.fd).toBeNull();
      closeSync(subfd);
      expect(one.hash).toMatchObject({ kind: "ok", hash: sha256(data) });
      pool.close();
    }
    closeSync(dfd);
  });

  test("with help, jobs beyond what the worker holds run on this thread, and all answers are right", async () => {
    const sub = join(dir, "many");
    fs.mkdirSync(sub);
    const names: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      writeFileSync(join(sub, `f${i}`), `content ${i}`);
      names.push(Buffer.from(`f${i}`));
    }
    const pool = new HashPool(1, true);
    const jobs = [];
    const sfd = openSync(sub, constants.O_RDONLY | constants.O_DIRECTORY);
    for (let k = 0; k < names.length; k += 10) jobs.push(pool.visitMany(sfd, names.slice(k, k + 10), "sha256"));
    const all = (await Promise.all(jobs)).flat();
    pool.close();
    closeSync(sfd);
    expect(pool.ranHere).toBeGreaterThan(0);
    expect(pool.ranHere).toBeLessThan(jobs.length);
    expect(all.map((v) => v.hash && v.hash.kind === "ok" && v.hash.hash)).toEqual(names.map((_, i) => sha256(`content ${i}`)));
  });

  test("the compiled binary, copied alone into an empty directory, walks on its embedded worker (no fallback to the main thread)", () => {
    const { dir: empty, cleanup } = tempDir("integrityd-alone-scan-");
    try {
      const bin = join(empty, "integrityd");
      copyFileSync(BIN, bin);
      chmodSync(bin, 0o755);
      const area = join(empty, "area");
      mkdirSync(join(area, "sub"), { recursive: true });
      for (let i = 0; i < 50; i++) writeFileSync(join(area, "sub", `f${i}`), `file ${i}`);
      const p = writeConfig(empty, `database = ${join(empty, "db.sqlite")}\narea = ${area}\n`);
      expect(run(["--init-db", "--config", p], { bin, cwd: empty }).code).toBe(0);
      const first = run(["--scan-once", "--config", p], { bin, cwd: empty });
      expect(first.code).toBe(0);
      expect(first.stdout).toContain("Baseline: recorded 52 entries (50 files");
      expect(first.stderr).not.toContain("worker failed");
      writeFileSync(join(area, "sub", "f7"), "changed");
      const second = run(["--scan-once", "--config", p], { bin, cwd: empty });
      expect(second.code).toBe(4);
      expect(second.stdout).toContain(`Changed: ${join(area, "sub", "f7")}`);
      expect(second.stderr).not.toContain("worker failed");
    } finally {
      cleanup();
    }
  });
});
