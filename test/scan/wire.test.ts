// The strings between the main thread and the walk workers: every encoder
// against its decoder, and a visit through the wire equal to the same visit
// converted on this thread.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toVisited, visitSync, type RawHash, type RawVisit } from "../../src/scan/reader.ts";
import {
  answerId, decodeJob, decodeListing, decodeVisit, encodeListing, encodeListingError, encodeVisit, listJob, manyJob,
} from "../../src/scan/wire.ts";
import { sha256, viaParent } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "integrityd-wire-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const raw = (s: string) => Buffer.from(s, "latin1");

describe("jobs", () => {
  test("a list job and a job of names come back as a descriptor and names, odd bytes included", () => {
    const n = Buffer.concat([raw("a\x01"), Buffer.from([0xff, 0x0a])]);
    expect(decodeJob(listJob(7, 12, n, "sha256"))).toEqual({ kind: "list", id: "7", dirfd: 12, name: n, algo: "sha256" });
    const job = decodeJob(manyJob(8, 345, [raw("x\xff"), raw("y")], "sha512"));
    expect(job).toEqual({ kind: "many", id: "8", dirfd: 345, names: [raw("x\xff"), raw("y")], algo: "sha512" });
  });
});

describe("visits", () => {
  test("a file with its hash, a symlink with an odd target, a directory: decoded as converted on this thread", () => {
    const f = join(dir, "f");
    writeFileSync(f, "hello");
    const l = join(dir, "l");
    symlinkSync(Buffer.concat([raw("/t\x01"), Buffer.from([0xfe])]), l);
    const d = join(dir, "d");
    mkdirSync(d);
    const buf = Buffer.alloc(4096);
    for (const p of [f, l, d]) {
      const v = viaParent(p, (fd, n) => visitSync(fd, n, "sha256", buf));
      const text = encodeVisit("12", v);
      expect(answerId([text])).toBe(12);
      const back = decodeVisit(text);
      const here = toVisited(v);
      expect(back.stat).toEqual(here.stat);
      if (p === f) {
        expect(back.hash).toMatchObject({ kind: "ok", hash: sha256("hello"), bytes: 5 });
        expect(here.hash).toMatchObject({ kind: "ok", hash: sha256("hello"), bytes: 5 });
      } else {
        expect(back.hash).toBeNull();
        expect(here.hash).toBeNull();
      }
    }
  });

  test("a visit that failed, and hashes that did not succeed, carry their kind, reason and described message", () => {
    const failed: RawVisit = { ok: false, code: "EACCES", message: "EACCES: permission denied, lstat '/x'" };
    expect(decodeVisit(encodeVisit("3", failed))).toEqual({ stat: { ok: false, code: "EACCES", message: "permission denied (EACCES)" }, hash: null });
    const f = join(dir, "g");
    writeFileSync(f, "x");
    const v = viaParent(f, (fd, n) => visitSync(fd, n, "sha256", Buffer.alloc(16)));
    if (!v.ok) throw new Error("lstat failed");
    const as = (hash: RawHash) => decodeVisit(encodeVisit("", { ...v, hash })).hash;
    expect(as({ kind: "torn", reason: "changed while being read" })).toEqual({ kind: "torn", reason: "changed while being read" });
    expect(as({ kind: "vanished" })).toEqual({ kind: "vanished" });
    expect(as({ kind: "error", code: "EIO", message: "EIO: i/o error, read" })).toEqual({ kind: "error", code: "EIO", message: "input/output error (EIO)" });
    expect(as({ kind: "error", code: "EWEIRD", message: "something odd" })).toEqual({ kind: "error", code: "EWEIRD", message: "something odd (EWEIRD)" });
  });

  test("an answer's id: the head of its first string", () => {
    expect(answerId(["41", "x"])).toBe(41);
    expect(answerId([encodeVisit("5", { ok: false, code: "ENOENT", message: "" })])).toBe(5);
  });
});

describe("listings", () => {
  test("raw names round-trip; an empty directory; an error", () => {
    const names = [raw("a"), Buffer.from([0xff, 0x01, 0x0a]), raw("c d")];
    const { listing: l, fd } = decodeListing(encodeListing(17, names));
    expect(fd).toBe(17);
    expect(l.ok && l.names.map((n) => n.toString("hex"))).toEqual(names.map((n) => n.toString("hex")));
    expect(decodeListing(encodeListing(3, []))).toEqual({ listing: { ok: true, names: [] }, fd: 3 });
    expect(decodeListing(encodeListingError("EACCES", "EACCES: permission denied"))).toEqual({ listing: { ok: false, code: "EACCES", message: "permission denied (EACCES)" }, fd: null });
  });
});
