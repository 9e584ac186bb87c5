import { afterAll, expect, test } from "bun:test";
import { chmodSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readKeyFile, writeKeyFile } from "../../src/chain/keyfile.ts";
import { tempDir } from "../support/binary.ts";

const { dir, cleanup } = tempDir("integrityd-key-");
afterAll(cleanup);

test("a new key file is 0600; the next key overwrites it in place (same inode, same length), old key bytes gone", () => {
  const p = join(dir, "k");
  const k1 = Buffer.alloc(32, 0xaa);
  writeKeyFile(p, { epoch: 1, key: k1 });
  const st1 = statSync(p);
  expect(st1.mode & 0o777).toBe(0o600);
  expect(readKeyFile(p)).toEqual({ epoch: 1, key: k1 });
  chmodSync(p, 0o644);
  writeKeyFile(p, { epoch: 2, key: Buffer.alloc(32, 0xbb) });
  const st2 = statSync(p);
  expect(st2.ino).toBe(st1.ino);
  expect(st2.size).toBe(st1.size);
  expect(st2.mode & 0o777).toBe(0o600);
  expect(readFileSync(p, "latin1")).not.toContain("aa".repeat(32));
  expect(readKeyFile(p)!.epoch).toBe(2);
});

test("missing: null; a symlink, a directory or a damaged file: refused with the path named", () => {
  expect(readKeyFile(join(dir, "none"))).toBeNull();
  const target = join(dir, "target");
  writeKeyFile(target, { epoch: 1, key: Buffer.alloc(32, 1) });
  const link = join(dir, "link");
  symlinkSync(target, link);
  expect(() => readKeyFile(link)).toThrow(/symbolic link/);
  expect(() => writeKeyFile(link, { epoch: 2, key: Buffer.alloc(32, 2) })).toThrow(/symbolic link/);
  expect(readKeyFile(target)!.epoch).toBe(1); // not written through the link
  expect(() => readKeyFile(dir)).toThrow(/not a regular file/);
  const bad = join(dir, "bad");
  writeFileSync(bad, "integrityd chain key v1\nepoch 1\n");
  expect(() => readKeyFile(bad)).toThrow(/bad: not an integrityd chain key file/);
});
