// Decoding the kernel's records: well-formed ones, and lengths that lie.
import { describe, expect, test } from "bun:test";
import { parseFanotify, parseInotify } from "../../../src/scan/hints/events.ts";

function fanRecord(mask: number, pid: number, handle: Buffer, name: string): Buffer {
  const nameBytes = Buffer.from(`${name}\0`);
  const infoLen = 4 + 8 + 8 + handle.length + nameBytes.length;
  const padded = (infoLen + 3) & ~3;
  const len = 24 + padded;
  const b = Buffer.alloc(len);
  b.writeUInt32LE(len, 0);
  b.writeUInt8(3, 4);
  b.writeUInt16LE(24, 6);
  b.writeBigUInt64LE(BigInt(mask), 8);
  b.writeInt32LE(-1, 16);
  b.writeInt32LE(pid, 20);
  b.writeUInt8(2, 24); // DFID_NAME
  b.writeUInt16LE(padded, 26);
  b.write("0102030405060708", 28, "hex");
  b.writeUInt32LE(handle.length, 36);
  b.writeInt32LE(1, 40);
  handle.copy(b, 44);
  nameBytes.copy(b, 44 + handle.length);
  return b;
}

describe("fanotify", () => {
  test("a record: mask, pid, fsid, the handle as open_by_handle_at takes it, the raw name", () => {
    const h = Buffer.from("aabbccddeeff0011", "hex");
    const buf = Buffer.concat([fanRecord(0x2, 42, h, "shadow"), fanRecord(0x4000, 0, Buffer.alloc(0), "")]);
    const [r, o] = parseFanotify(buf, buf.length);
    expect(r.mask).toBe(2);
    expect(r.pid).toBe(42);
    expect(r.fsid).toBe("0102030405060708");
    expect(Buffer.from(r.handle!).subarray(8).equals(h)).toBe(true);
    expect(Buffer.from(r.handle!).readUInt32LE(0)).toBe(8);
    expect(Buffer.from(r.name!).toString()).toBe("shadow");
    expect(o.overflow).toBe(true);
  });

  test("lengths that lie end the parse: no throw, no read past the buffer", () => {
    const good = fanRecord(0x2, 1, Buffer.from("0011", "hex"), "a");
    const bad = Buffer.from(good);
    bad.writeUInt32LE(10_000, 0);
    expect(parseFanotify(bad, bad.length)).toEqual([]);
    const badInfo = Buffer.from(good);
    badInfo.writeUInt32LE(9999, 36); // handle_bytes beyond the record
    const [r] = parseFanotify(badInfo, badInfo.length);
    expect(r.handle).toBeUndefined();
    for (let n = 0; n < good.length; n++) expect(() => parseFanotify(good, n)).not.toThrow();
  });
});

describe("inotify", () => {
  test("records with names (NUL padded), an overflow, a truncated tail", () => {
    const rec = (wd: number, mask: number, name: string) => {
      const nb = name ? Buffer.concat([Buffer.from(name), Buffer.alloc(16 - (name.length % 16))]) : Buffer.alloc(0);
      const b = Buffer.alloc(16 + nb.length);
      b.writeInt32LE(wd, 0);
      b.writeUInt32LE(mask, 4);
      b.writeUInt32LE(nb.length, 12);
      nb.copy(b, 16);
      return b;
    };
    const buf = Buffer.concat([rec(1, 0x100, "new\nline"), rec(-1, 0x4000, ""), rec(2, 2, "x")]);
    const out = parseInotify(buf, buf.length - 3);
    expect(out.length).toBe(2);
    expect(Buffer.from(out[0].name).toString()).toBe("new\nline");
    expect(out[1].overflow).toBe(true);
  });
});
