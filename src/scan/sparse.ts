// The sparse-aware content digest: what it covers, and when it is used. Pure
// (no I/O): reader.ts finds the data extents (lseek SEEK_DATA/SEEK_HOLE,
// libc.ts) and reads them; this module says which files get it and frames
// what is hashed.
//
// When: a regular file of at least SPARSE_MIN_SIZE bytes whose allocated
// blocks (st_blocks * 512) are at most half its apparent size. Such a file
// (`truncate -s 1T` by any user) would otherwise be read whole, holes and
// all: 1 TiB of zeros is weeks at a paced byterate and ~10 minutes of
// SHA-256 even at full speed. Any other file keeps the plain hash.
//
// What: the configured hash (sha256 by default) over, for each data extent
// the kernel reports, in file order: its offset and its length (each 8 bytes,
// little-endian) followed by its bytes; then the file's total size (8 bytes,
// little-endian). The result is written `sparse-<algo>:<hex>`, a different
// prefix from a plain `<algo>:<hex>`, so the two are never mistaken for each
// other; both are of the same algorithm (hashAlgorithm), so a file that turns
// sparse or dense is reported Changed with its hash line, never passed over as
// a change of algorithm (a new baseline, attrs.ts). A byte
// written into a hole adds (or grows) an extent and so changes the digest; so
// does any change to the data, to where it lies, or to the size. The work,
// and the byte pacing, is proportional to the allocated data only.
//
// Where the file system cannot locate holes (lseek says EINVAL), the content
// is not read at all and the visit says so ("content not read (sparse)": an
// error report, the old hash kept): never silently unverified.

/** Files below this are never treated as sparse (a few holes in a small file cost nothing to read). */
export const SPARSE_MIN_SIZE = 1 << 20;

/** Whether a file of this apparent size with this many 512-byte blocks gets the sparse digest. */
export function isSparse(size: number, blocks: number): boolean {
  return size >= SPARSE_MIN_SIZE && blocks * 512 <= size / 2;
}

/** The algorithm a recorded hash was made with, sparse digest or plain ("sha256" for both sha256: and sparse-sha256:). */
export function hashAlgorithm(hash: string): string {
  const prefix = hash.slice(0, hash.indexOf(":"));
  return prefix.startsWith("sparse-") ? prefix.slice("sparse-".length) : prefix;
}

/** The prefix of a sparse digest for hash algorithm `algo`. */
export function sparsePrefix(algo: string): string {
  return `sparse-${algo}:`;
}

function u64le(...values: number[]): Buffer {
  const b = Buffer.alloc(8 * values.length);
  values.forEach((v, i) => b.writeBigUInt64LE(BigInt(v), 8 * i));
  return b;
}

/** What precedes an extent's bytes in the digest: its offset and length. */
export function extentHeader(offset: number, length: number): Buffer {
  return u64le(offset, length);
}

/** What ends the digest: the total size. */
export function sizeTrailer(size: number): Buffer {
  return u64le(size);
}

/** Why a sparse file's content was not read, where holes cannot be located. */
export function unreadSparseMessage(size: number, blocks: number): string {
  return `size ${size} bytes, ${blocks * 512} bytes allocated, holes not locatable on this file system: content not read (sparse)`;
}

/**
 * The sparse digest of extents given whole (tests and tools; reader.ts
 * feeds the same framing chunk by chunk).
 */
export function sparseDigest(algo: string, extents: readonly { offset: number; data: Uint8Array }[], size: number): string {
  const h = new Bun.CryptoHasher(algo as "sha256");
  for (const e of extents) {
    h.update(extentHeader(e.offset, e.data.length));
    h.update(e.data);
  }
  h.update(sizeTrailer(size));
  return `${sparsePrefix(algo)}${h.digest("hex")}`;
}
