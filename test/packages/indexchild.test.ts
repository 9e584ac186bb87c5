// The index child's answer (src/packages/indexchild.ts) is checked field by
// field: a malformed or hostile answer is an Error, never an index.
import { expect, test } from "bun:test";
import { debKey } from "../../src/packages/archive.ts";
import { childIndexer, decodeIndex, encodeIndex } from "../../src/packages/indexchild.ts";

const H = "a".repeat(64);

test("an index survives the trip, and malformed answers are refused", () => {
  const ix = { debs: new Map([[debKey("p", "1.0", "all"), [{ sha256: H, origin: "http://x y", key: "ABCD" }]]]), problems: ["one source not usable"] };
  expect(decodeIndex(encodeIndex(ix))).toEqual(ix);
  for (const bad of [
    "{}", "[]", `{"debs":{},"problems":[]}`, `{"debs":[],"problems":[1]}`,
    `{"debs":[["k"]],"problems":[]}`, `{"debs":[[1,[]]],"problems":[]}`,
    `{"debs":[["k",[{"sha256":"xyz","origin":"o","key":"k"}]]],"problems":[]}`,
    `{"debs":[["k",[{"sha256":"${H}","origin":1,"key":"k"}]]],"problems":[]}`,
    `{"debs":[["k",[null]]],"problems":[]}`,
  ]) expect(() => decodeIndex(bad)).toThrow("a malformed index");
  expect(() => decodeIndex("not json")).toThrow();
});

test("a child that fails says why", async () => {
  const dirs = { lists: "/nonexistent", sourceList: "/nonexistent", sourceParts: "/nonexistent", trusted: "/nonexistent", trustedParts: "/nonexistent", archives: "/nonexistent", dpkgAdmin: "/nonexistent", archs: ["amd64"] };
  await expect(childIndexer(["/bin/false"])!(dirs, [])).rejects.toThrow("it exited with 1");
  await expect(childIndexer(["/bin/sh", "-c", "echo '{\"debs\":5}'"])!(dirs, [])).rejects.toThrow("a malformed index");
  await expect(childIndexer(["/bin/sh", "-c", "head -c 70000000 /dev/zero"])!(dirs, [])).rejects.toThrow("its output is too large");
});
