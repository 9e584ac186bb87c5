// The follow decision, pure: stored state + what stat says now (fake time) -> what to do.
import { describe, expect, test } from "bun:test";
import {
  afterMove, checkHead, copyCandidate, type FileFacts, type Followed, followedState, FP_LEN, fpAgrees, fpMatchesFully,
  linkTrusted, nextTailprint, ownerChanged, pathState, ROTATE_MAX_WAIT, rotatedNames, sameFile, skippedRotations, tailAgrees,
} from "../../src/logs/follow.ts";

const b = (s: string) => Buffer.from(s, "latin1");
const file = (ino: number, o: Partial<FileFacts> = {}): FileFacts => ({ dev: 1, ino, isFile: true, size: 100, mtimeMs: 0, nlink: 1, ...o });
const stored = (o: Partial<Followed> = {}): Followed => ({ dev: 1, ino: 7, offset: 50, fingerprint: b("Jan  1 first line"), tailprint: null, ...o });

describe("pathState", () => {
  test("a path that is not a regular file is not read, whatever is stored", () => {
    expect(pathState(stored(), false, file(7, { isFile: false }))).toEqual({ kind: "not-regular" });
    expect(pathState(stored({ ino: 0 }), true, file(9, { isFile: false }))).toEqual({ kind: "not-regular" });
  });

  test("nothing followed: absent (announced once) or appeared", () => {
    expect(pathState(stored({ ino: 0 }), false, null)).toEqual({ kind: "absent", announce: true });
    expect(pathState(stored({ ino: 0 }), true, null)).toEqual({ kind: "absent", announce: false });
    expect(pathState(stored({ ino: 0 }), true, file(9))).toEqual({ kind: "appeared" });
  });

  test("a followed file: find it (even when the path is gone)", () => {
    expect(pathState(stored(), false, file(7))).toEqual({ kind: "followed" });
    expect(pathState(stored(), false, null)).toEqual({ kind: "followed" });
  });
});

describe("followedState", () => {
  test("not found: gone, with or without a file at the path", () => {
    expect(followedState(stored(), file(9), null)).toEqual({ kind: "gone", pathExists: true });
    expect(followedState(stored(), null, null)).toEqual({ kind: "gone", pathExists: false });
  });

  test("found and at the path: current; found elsewhere: moved", () => {
    const s = stored();
    expect(followedState(s, file(7), s)).toEqual({ kind: "current" });
    expect(followedState(s, file(9), s)).toEqual({ kind: "moved" });
    expect(followedState(s, null, s)).toEqual({ kind: "moved" });
    expect(followedState(s, file(7, { dev: 2 }), s)).toEqual({ kind: "moved" }); // same inode on another device
  });
});

describe("checkHead", () => {
  test("grown, same first bytes: same; a longer head becomes the fingerprint", () => {
    const s = stored({ fingerprint: b("Jan") });
    const head = b("Jan  1 first line\n");
    expect(checkHead(s, 200, head, null)).toEqual({ kind: "same", fingerprint: head });
    const shorter = b("Ja");
    expect(checkHead(s, 200, shorter, null)).toEqual({ kind: "same", fingerprint: s.fingerprint });
  });

  test("no fingerprint stored: any head agrees", () => {
    expect(checkHead(stored({ fingerprint: null, offset: 0 }), 3, b("abc"), null).kind).toBe("same");
  });

  test("size below the offset: truncated; first bytes changed: rewritten", () => {
    expect(checkHead(stored({ offset: 50 }), 49, b("Jan  1 first line"), null)).toEqual({ kind: "truncated", why: "shorter" });
    expect(checkHead(stored({ offset: 50 }), 50, b("Jan  1 first line"), null).kind).toBe("same");
    expect(checkHead(stored({ offset: 50 }), 500, b("Mar  3 other"), null)).toEqual({ kind: "truncated", why: "rewritten" });
    expect(checkHead(stored({ offset: 50 }), 0, b(""), null)).toEqual({ kind: "truncated", why: "shorter" });
  });

  test("same size and head, but the bytes before the offset changed: rewritten (a file truncated and written again past the offset)", () => {
    const s = stored({ offset: 50, tailprint: b("old line 3\n") });
    expect(checkHead(s, 500, b("Jan  1 first line"), b("old line 3\n"))).toEqual({ kind: "same", fingerprint: b("Jan  1 first line") });
    expect(checkHead(s, 500, b("Jan  1 first line"), b("new line 3\n"))).toEqual({ kind: "truncated", why: "rewritten" });
    expect(checkHead(s, 500, b("Jan  1 first line"), null)).toEqual({ kind: "truncated", why: "rewritten" });
    expect(checkHead(s, 49, b("Jan  1 first line"), null)).toEqual({ kind: "truncated", why: "shorter" });
    // no tailprint stored (offset 0, or a row from before it was kept): the head decides alone
    expect(checkHead(stored({ tailprint: null }), 500, b("Jan  1 first line"), null).kind).toBe("same");
    expect(checkHead(stored({ tailprint: b("") }), 500, b("Jan  1 first line"), b("")).kind).toBe("same");
  });
});

describe("tailprint", () => {
  test("tailAgrees: equal bytes of equal length only", () => {
    expect(tailAgrees(null, null)).toBe(true);
    expect(tailAgrees(b("abc"), b("abc"))).toBe(true);
    expect(tailAgrees(b("abc"), b("abd"))).toBe(false);
    expect(tailAgrees(b("abc"), b("bc"))).toBe(false);
    expect(tailAgrees(b("abc"), null)).toBe(false);
  });

  test("nextTailprint keeps the last FP_LEN bytes before the offset as it moves on", () => {
    expect(nextTailprint(null, b(""))).toBe(null);
    expect([...nextTailprint(null, b("ab\n"))!]).toEqual([...b("ab\n")]);
    expect([...nextTailprint(b("ab\n"), b("cd\n"))!]).toEqual([...b("ab\ncd\n")]);
    const big = b("x".repeat(FP_LEN - 2) + "yz");
    expect([...nextTailprint(b("ab\n"), big)!]).toEqual([...big]); // whole window from the new bytes
    const tp = nextTailprint(b("a".repeat(FP_LEN)), b("bc"))!;
    expect(tp.length).toBe(FP_LEN);
    expect(Buffer.from(tp).toString("latin1")).toBe("a".repeat(FP_LEN - 2) + "bc");
    const prev = b("kept");
    expect(nextTailprint(prev, b(""))).toBe(prev); // nothing consumed: unchanged
  });

  test("nextTailprint copies: changing the read buffer afterwards does not change it", () => {
    const buf = b("line one\n");
    const tp = nextTailprint(null, buf)!;
    buf.fill(0);
    expect(Buffer.from(tp).toString("latin1")).toBe("line one\n");
  });
});

describe("afterMove", () => {
  const base = { pathExists: true, old: { nlink: 1, mtimeMs: 0 }, now: 100_000, rotationSeen: 0, graceMs: 1000 };

  test("renamed, nothing at the path yet: keep the old file (no rotation clock started)", () => {
    expect(afterMove({ ...base, pathExists: false })).toEqual({ action: "keep", rotationSeen: 0 });
  });

  test("a new file at the path, the old one written within the grace time: wait; the rotation is seen now", () => {
    expect(afterMove({ ...base, old: { nlink: 1, mtimeMs: 99_500 } })).toEqual({ action: "wait", rotationSeen: 100_000 });
  });

  test("the old file quiet for the grace time: rotated", () => {
    expect(afterMove({ ...base, old: { nlink: 1, mtimeMs: 99_000 } })).toEqual({ action: "rotated", rotationSeen: 100_000 });
  });

  test("still being written, but ROTATE_MAX_WAIT after the rotation was seen: rotated anyway", () => {
    const seen = 100_000 - ROTATE_MAX_WAIT;
    expect(afterMove({ ...base, old: { nlink: 1, mtimeMs: 99_999 }, rotationSeen: seen })).toEqual({ action: "rotated", rotationSeen: seen });
    expect(afterMove({ ...base, old: { nlink: 1, mtimeMs: 99_999 }, rotationSeen: seen + 1 }).action).toBe("wait");
  });

  test("grace 0: never waits", () => {
    expect(afterMove({ ...base, graceMs: 0, old: { nlink: 1, mtimeMs: 100_000 } }).action).toBe("rotated");
  });

  test("no link left: deleted (nothing at the path) or rotated (re-created), without grace", () => {
    expect(afterMove({ ...base, pathExists: false, old: { nlink: 0, mtimeMs: 100_000 } })).toEqual({ action: "deleted", rotationSeen: 0 });
    expect(afterMove({ ...base, old: { nlink: 0, mtimeMs: 100_000 } })).toEqual({ action: "rotated", rotationSeen: 0 });
  });
});

describe("fingerprints", () => {
  test("agree on the common length; match fully only with the whole fingerprint", () => {
    expect(fpAgrees(null, b("x"))).toBe(true);
    expect(fpAgrees(b("abc"), b("ab"))).toBe(true);
    expect(fpAgrees(b("abc"), b("abd"))).toBe(false);
    expect(fpMatchesFully(b("abc"), b("ab"))).toBe(false);
    expect(fpMatchesFully(b("abc"), b("abcd"))).toBe(true);
    expect(fpMatchesFully(b(""), b("abc"))).toBe(false);
    expect(fpMatchesFully(null, b("abc"))).toBe(false);
  });

  test("sameFile compares dev and inode", () => {
    expect(sameFile({ dev: 1, ino: 2 }, { dev: 1, ino: 2 })).toBe(true);
    expect(sameFile({ dev: 1, ino: 2 }, { dev: 2, ino: 2 })).toBe(false);
    expect(sameFile(null, { dev: 1, ino: 2 })).toBe(false);
  });
});

describe("rotated siblings", () => {
  test("names: NAME.x, NAME-x, NAME_x; .0/.1 first, then dated, then the rest, each sorted", () => {
    const names = ["app.log", "app.log.2.gz", "app.logger", "app.log-20240102", "app.log.1", "other.log.1", "app.log_old", "app.log.0", "app.log-20240101"];
    expect(rotatedNames("app.log", names)).toEqual([
      "app.log.0", "app.log.1", "app.log-20240101", "app.log-20240102", "app.log.2.gz", "app.log_old",
    ]);
  });

  test("copy candidate after copytruncate: a regular file, not the truncated one, long enough, and a fingerprint to check", () => {
    const s = stored({ offset: 50 });
    expect(copyCandidate(s, 7, file(8, { size: 50 }))).toBe(true);
    expect(copyCandidate(s, 7, file(8, { size: 49 }))).toBe(false);
    expect(copyCandidate(s, 8, file(8, { size: 500 }))).toBe(false);
    expect(copyCandidate(s, 7, file(8, { isFile: false }))).toBe(false);
    expect(copyCandidate(stored({ fingerprint: null }), 7, file(8))).toBe(false);
    expect(copyCandidate(stored({ fingerprint: b("") }), 7, file(8))).toBe(false);
  });

  test("skipped rotations: siblings written after the finished file, neither it nor the current log", () => {
    const old = file(7, { mtimeMs: 1000 });
    const cur = file(9, { mtimeMs: 3000 });
    const sibs = [
      { name: "app.log.2", st: file(7, { mtimeMs: 1000 }) }, // the finished file itself
      { name: "app.log.1", st: file(8, { mtimeMs: 2000 }) }, // in between: skipped
      { name: "app.log.3", st: file(6, { mtimeMs: 500 }) }, // older
      { name: "app.log.0", st: file(9, { mtimeMs: 3000 }) }, // the current log (hard link)
      { name: "app.log.x", st: null },
      { name: "app.log.d", st: file(5, { mtimeMs: 2500, isFile: false }) },
      { name: "app.log-20240101.gz", st: file(4, { mtimeMs: 2500 }) },
    ];
    expect(skippedRotations(sibs, old, cur)).toEqual(["app.log-20240101.gz", "app.log.1"]);
    expect(skippedRotations(sibs, old, null)).toEqual(["app.log-20240101.gz", "app.log.0", "app.log.1"]);
  });
});

describe("who may decide what is read", () => {
  const root = { linkUid: 0, dirUid: 0, dirMode: 0o40755 };

  test("a link root owns in a directory root owns and no one else may write to: followed", () => {
    expect(linkTrusted(root, false, 0)).toBe(true);
    expect(linkTrusted({ ...root, dirMode: 0o40700 }, false, 0)).toBe(true);
  });

  test("another owner of the link or of the directory, or a group- or world-writable directory (sticky or not): refused", () => {
    expect(linkTrusted({ ...root, linkUid: 1000 }, false, 0)).toBe(false);
    expect(linkTrusted({ ...root, dirUid: 1000 }, false, 0)).toBe(false);
    expect(linkTrusted({ ...root, dirMode: 0o40775 }, false, 0)).toBe(false);
    expect(linkTrusted({ ...root, dirMode: 0o40757 }, false, 0)).toBe(false);
    expect(linkTrusted({ ...root, dirMode: 0o41777 }, false, 0)).toBe(false); // /tmp
    expect(linkTrusted({ ...root, dirUid: -1 }, false, 0)).toBe(false); // directory not found
  });

  test("the config names the target: followed whoever owns the link", () => {
    expect(linkTrusted({ linkUid: 1000, dirUid: 1000, dirMode: 0o41777 }, true, 0)).toBe(true);
  });

  test("the daemon's own user is trusted as root is (a non-root instance), no one else", () => {
    expect(linkTrusted({ linkUid: 500, dirUid: 500, dirMode: 0o40755 }, false, 500)).toBe(true);
    expect(linkTrusted({ linkUid: 501, dirUid: 500, dirMode: 0o40755 }, false, 500)).toBe(false);
  });

  test("ownerChanged: another uid than the recorded one; nothing recorded (-1): no change", () => {
    expect(ownerChanged(0, 0)).toBe(false);
    expect(ownerChanged(0, 1000)).toBe(true);
    expect(ownerChanged(1000, 0)).toBe(true);
    expect(ownerChanged(-1, 1000)).toBe(false);
  });
});
