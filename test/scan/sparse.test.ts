// The sparse digest's rule and framing (sparse.ts): which files get it, and
// that it changes with the data, with where the data lies, and with the size.
import { describe, expect, test } from "bun:test";
import { extentHeader, hashAlgorithm, isSparse, sizeTrailer, sparseDigest, sparsePrefix, SPARSE_MIN_SIZE, unreadSparseMessage } from "../../src/scan/sparse.ts";

const TiB = 2 ** 40;
const hex = (b: Buffer) => b.toString("hex");

describe("which files are sparse", () => {
  test("at least 1 MiB with at most half of it allocated", () => {
    expect(isSparse(TiB, 0)).toBe(true); // truncate -s 1T
    expect(isSparse(TiB, 8)).toBe(true);
    expect(isSparse(SPARSE_MIN_SIZE, SPARSE_MIN_SIZE / 1024)).toBe(true); // exactly half
    expect(isSparse(SPARSE_MIN_SIZE, SPARSE_MIN_SIZE / 1024 + 1)).toBe(false);
    expect(isSparse(SPARSE_MIN_SIZE - 1, 0)).toBe(false); // small: read whole, holes and all
    expect(isSparse(200 << 20, (200 << 20) / 512)).toBe(false); // dense
    expect(isSparse(0, 0)).toBe(false);
  });
});

describe("the digest", () => {
  test("framing: offset and length little-endian before each extent, the size at the end", () => {
    expect(hex(extentHeader(1, 2))).toBe("0100000000000000" + "0200000000000000");
    expect(hex(extentHeader(TiB, 4096))).toBe("0000000000010000" + "0010000000000000");
    expect(hex(sizeTrailer(TiB))).toBe("0000000000010000");
    const manual = new Bun.CryptoHasher("sha256")
      .update(extentHeader(4096, 3)).update("abc")
      .update(extentHeader(1 << 30, 2)).update("de")
      .update(sizeTrailer(TiB))
      .digest("hex");
    const d = sparseDigest("sha256", [{ offset: 4096, data: Buffer.from("abc") }, { offset: 1 << 30, data: Buffer.from("de") }], TiB);
    expect(d).toBe(`sparse-sha256:${manual}`);
    expect(sparsePrefix("sha512")).toBe("sparse-sha512:");
    expect(hashAlgorithm("sparse-sha512:ab")).toBe("sha512");
    expect(hashAlgorithm("sha512:ab")).toBe("sha512");
    expect(hashAlgorithm("sha512-256:ab")).toBe("sha512-256");
  });

  test("changes with the data, with where it lies, and with the size; never equals a plain hash", () => {
    const base = sparseDigest("sha256", [{ offset: 8192, data: Buffer.from("abcd") }], TiB);
    expect(sparseDigest("sha256", [{ offset: 8192, data: Buffer.from("abce") }], TiB)).not.toBe(base);
    expect(sparseDigest("sha256", [{ offset: 12288, data: Buffer.from("abcd") }], TiB)).not.toBe(base);
    expect(sparseDigest("sha256", [{ offset: 8192, data: Buffer.from("abcd") }], TiB + 1)).not.toBe(base);
    // a byte written into a hole adds an extent
    expect(sparseDigest("sha256", [{ offset: 8192, data: Buffer.from("abcd") }, { offset: 2 ** 39, data: Buffer.from("x") }], TiB)).not.toBe(base);
    // the same bytes split differently are a different layout
    expect(sparseDigest("sha256", [{ offset: 8192, data: Buffer.from("ab") }, { offset: 8194, data: Buffer.from("cd") }], TiB)).not.toBe(base);
    // an all-hole file: only its size
    const empty = sparseDigest("sha256", [], TiB);
    expect(empty).toBe(`sparse-sha256:${new Bun.CryptoHasher("sha256").update(sizeTrailer(TiB)).digest("hex")}`);
    expect(empty.startsWith("sha256:")).toBe(false);
  });

  test("where holes cannot be located the message says the content was not read", () => {
    expect(unreadSparseMessage(TiB, 0)).toBe(`size ${TiB} bytes, 0 bytes allocated, holes not locatable on this file system: content not read (sparse)`);
  });
});
