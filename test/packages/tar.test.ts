// The tar reader against archives made by the real tar in each format.
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, linkSync } from "node:fs";
import { join } from "node:path";
import { installedPath, TarError, TarReader, type TarEntry } from "../../src/packages/tar.ts";
import { tempDir } from "../support/binary.ts";

const t = tempDir("integrityd-tar-");
afterAll(t.cleanup);
const src = join(t.dir, "src");
const longDir = "d".repeat(120) + "/" + "e".repeat(90);
mkdirSync(join(src, "usr/bin"), { recursive: true });
mkdirSync(join(src, longDir), { recursive: true });
writeFileSync(join(src, "usr/bin/tool"), "#!/bin/sh\necho tool\n", { mode: 0o4755 });
writeFileSync(join(src, longDir, "f".repeat(110)), Buffer.alloc(70000, 7));
writeFileSync(join(src, "empty"), "");
symlinkSync("l".repeat(150), join(src, "usr/bin/longlink"));
linkSync(join(src, "usr/bin/tool"), join(src, "usr/bin/hard"));

function read(format: string, chunk: number): TarEntry[] {
  const out = join(t.dir, `${format}.tar`);
  const r = Bun.spawnSync(["tar", `--format=${format}`, "-cf", out, "-C", src, "."]);
  expect(r.exitCode).toBe(0);
  const data = readFileSync(out);
  const got: TarEntry[] = [];
  const rd = new TarReader((e) => got.push(e));
  for (let i = 0; i < data.length; i += chunk) rd.push(data.subarray(i, i + chunk));
  rd.end();
  return got;
}

const sha = (p: string) => createHash("sha256").update(readFileSync(join(src, p))).digest("hex");
const byPath = (es: TarEntry[]) => new Map(es.map((e) => [installedPath(e.path).toString("latin1"), e]));

describe("TarReader", () => {
  for (const [format, chunk] of [["gnu", 1], ["pax", 4096], ["gnu", 65536]] as const) {
    test(`${format} in ${chunk}-byte chunks: paths, digests, links, modes`, () => {
      const m = byPath(read(format, chunk));
      const tool = m.get("/usr/bin/tool")!;
      expect(Buffer.from(tool.sha256!).toString("hex")).toBe(sha("usr/bin/tool"));
      expect(Buffer.from(tool.md5!).toString("hex")).toBe(createHash("md5").update(readFileSync(join(src, "usr/bin/tool"))).digest("hex"));
      expect(tool.mode).toBe(0o4755);
      const long = m.get(`/${longDir}/${"f".repeat(110)}`)!;
      expect(long.size).toBe(70000);
      expect(Buffer.from(long.sha256!).toString("hex")).toBe(sha(`${longDir}/${"f".repeat(110)}`));
      expect(m.get("/usr/bin/longlink")!.type).toBe("symlink");
      expect(Buffer.from(m.get("/usr/bin/longlink")!.link!).toString()).toBe("l".repeat(150));
      // one of the two names is the hard link; both carry the content's digest
      const hard = m.get("/usr/bin/hard")!;
      expect(Buffer.from(hard.sha256!).toString("hex")).toBe(sha("usr/bin/tool"));
      expect(Buffer.from(m.get("/empty")!.sha256!).toString("hex")).toBe(createHash("sha256").digest("hex"));
      expect(m.get("/usr/bin")!.type).toBe("dir");
    });
  }

  test("ustar splits a long path into prefix and name", () => {
    const s2 = join(t.dir, "s2");
    const p = "p".repeat(90) + "/" + "q".repeat(90);
    mkdirSync(join(s2, p), { recursive: true });
    writeFileSync(join(s2, p, "x"), "x");
    const out = join(t.dir, "u.tar");
    expect(Bun.spawnSync(["tar", "--format=ustar", "-cf", out, "-C", s2, p]).exitCode).toBe(0);
    const got: TarEntry[] = [];
    const rd = new TarReader((e) => got.push(e));
    rd.push(readFileSync(out));
    rd.end();
    expect(got.map((e) => installedPath(e.path).toString())).toContain(`/${p}/x`);
  });

  test("a corrupted header or a truncated archive throws, never yields half", () => {
    const data = Buffer.from(readFileSync(join(t.dir, "gnu.tar")));
    const bad = Buffer.from(data);
    bad[600] ^= 0xff; // inside the second header's name
    const tryRead = (b: Buffer) => {
      const rd = new TarReader(() => {});
      rd.push(b);
      rd.end();
    };
    expect(() => tryRead(bad.subarray(0, 512 * 3))).toThrow(TarError);
    expect(() => tryRead(data.subarray(0, 512 + 100))).toThrow(TarError);
  });
});
