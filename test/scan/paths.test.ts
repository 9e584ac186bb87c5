// Paths as raw bytes: join, parent, within, subtree ranges, printable form.
import { describe, expect, test } from "bun:test";
import { isWithin, joinPath, parentOf, pathFrom, showPath, subtreeRange } from "../../src/scan/paths.ts";

const b = (s: string) => pathFrom(s);
const str = (p: Uint8Array) => Buffer.from(p).toString("latin1");

describe("paths", () => {
  test("join, parent, within", () => {
    expect(str(joinPath(b("/etc"), b("ssh")))).toBe("/etc/ssh");
    expect(str(joinPath(b("/"), b("etc")))).toBe("/etc");
    expect(str(parentOf(b("/etc/ssh")))).toBe("/etc");
    expect(str(parentOf(b("/etc")))).toBe("/");
    expect(parentOf(b("/")).length).toBe(0);
    expect(isWithin(b("/etc/ssh"), b("/etc"))).toBe(true);
    expect(isWithin(b("/etc"), b("/etc"))).toBe(true);
    expect(isWithin(b("/etcetera"), b("/etc"))).toBe(false);
    expect(isWithin(b("/anything"), b("/"))).toBe(true);
  });
  test("subtree range holds exactly the paths below", () => {
    const [lo, hi] = subtreeRange(b("/a/b"));
    const inside = (p: string) => Buffer.compare(Buffer.from(p), Buffer.from(lo)) >= 0 && Buffer.compare(Buffer.from(p), Buffer.from(hi)) < 0;
    expect(inside("/a/b/c")).toBe(true);
    expect(inside("/a/b/\xff")).toBe(true);
    expect(inside("/a/b")).toBe(false);
    expect(inside("/a/b.c")).toBe(false);
    expect(inside("/a/bc")).toBe(false);
    expect(inside("/a/b0")).toBe(false);
    const [rlo, rhi] = subtreeRange(b("/"));
    expect(str(rlo)).toBe("/");
    expect(str(rhi)).toBe("0");
  });
  test("non-UTF-8 and control bytes are escaped for reports", () => {
    const p = new Uint8Array([...Buffer.from("/x/a"), 0xff, 0x0a, ...Buffer.from("b")]);
    expect(showPath(p)).toBe("/x/a\\xff\\nb");
  });
});
