// The verdict core, with made-up manifests and dpkg facts.
import { describe, expect, test } from "bun:test";
import { classify, owningPackage, type ManifestFile } from "../../src/packages/verdict.ts";
import { annotate, packageSummary } from "../../src/packages/summary.ts";

const h = (c: string) => c.repeat(64);
const m = (c: string) => c.repeat(32);
const row = (o: Partial<ManifestFile>): ManifestFile => ({
  package: "sshd", version: "1", arch: "amd64", evidence: "verified", key: "K", origin: "http://x s", sha256: h("a"), md5: m("a"), mode: 0o100755, uid: 0, gid: 0, conffile: false, ...o,
});
const facts = (o: Partial<{ installed: string | null; md5sum: string | null; statusConffile: string | null }> = {}) => ({ installed: "1", md5sum: m("a"), statusConffile: null, ...o });

describe("classify", () => {
  test("no manifest: unowned", () => {
    expect(classify([], { sha256: h("a"), md5: m("a") }, facts()).verdict).toBe("unowned");
  });
  test("content of any verified version: verified, with that version and key", () => {
    const c = classify([row({}), row({ version: "2", sha256: h("b"), key: "K2" })], { sha256: h("b"), md5: m("b") }, facts());
    expect(c).toMatchObject({ verdict: "verified", version: "2", key: "K2", records: [] });
  });
  test("content of no verified version: mismatch with the installed version's hash expected", () => {
    const c = classify([row({})], { sha256: h("c"), md5: m("c") }, facts());
    expect(c).toMatchObject({ verdict: "mismatch", expected: `sha256:${h("a")}` });
  });
  test("dpkg's MD5 agreeing does not save content a verified manifest disowns", () => {
    const c = classify([row({})], { sha256: h("c"), md5: m("c") }, facts({ md5sum: m("c") }));
    expect(c.verdict).toBe("mismatch");
    expect(c.records).toEqual([{ record: "md5sums", expected: m("a"), found: m("c") }]);
  });
  test("mid-upgrade: dpkg's md5sums line of another verified version is no rewrite; a hash no verified version has is", () => {
    const rows = [row({ version: "1" }), row({ version: "2", sha256: h("b"), md5: m("b") })];
    // status already says 2, md5sums still lists 1's line (dpkg between unpack and its records)
    expect(classify(rows, { sha256: h("a"), md5: m("a") }, facts({ installed: "2", md5sum: m("a") })).records).toEqual([]);
    expect(classify(rows, { sha256: h("a"), md5: m("a") }, facts({ installed: "2", md5sum: m("e") })).records).toEqual([{ record: "md5sums", expected: m("b"), found: m("e") }]);
  });
  test("an unverified .deb's content is never verified: md5-only when dpkg's MD5 agrees, else mismatch", () => {
    const rows = [row({ evidence: "unverified", sha256: h("d") })];
    expect(classify(rows, { sha256: h("d"), md5: m("d") }, facts({ md5sum: m("d") })).verdict).toBe("md5-only");
    expect(classify(rows, { sha256: h("d"), md5: m("d") }, facts({ md5sum: m("e") })).verdict).toBe("mismatch");
  });
  test("md5-only manifests (backfill) give md5-only at best", () => {
    const rows = [row({ evidence: "md5-only", sha256: null, md5: m("f") })];
    expect(classify(rows, { sha256: h("x"), md5: m("f") }, facts({ md5sum: null })).verdict).toBe("md5-only");
    expect(classify(rows, { sha256: h("x"), md5: m("0") }, facts({ md5sum: null })).verdict).toBe("mismatch");
  });
  test("conffiles: an edit is an admin edit; a rewritten status hash is HIGH on its own", () => {
    const rows = [row({ conffile: true })];
    const c = classify(rows, { sha256: h("9"), md5: m("9") }, facts({ statusConffile: m("9") }));
    expect(c.verdict).toBe("conffile-edited");
    expect(c.records).toEqual([{ record: "status", expected: m("a"), found: m("9") }]);
    expect(classify(rows, { sha256: h("9"), md5: m("9") }, facts({ statusConffile: m("a") })).records).toEqual([]);
  });
  test("verified content with another mode or owner: still verified, the difference said", () => {
    const c = classify([row({})], { sha256: h("a"), md5: m("a"), attrs: { mode: 0o4755, uid: 0, gid: 1000 } }, facts());
    expect(c.verdict).toBe("verified");
    expect(c.attrsDiffer).toBe("mode 4755 (package: 0755), owner 0:1000 (package: 0:0)");
    expect(classify([row({})], { sha256: h("a"), md5: m("a"), attrs: { mode: 0o755, uid: 0, gid: 0 } }, facts()).attrsDiffer).toBeNull();
  });
  test("the owner is the package dpkg has installed", () => {
    expect(owningPackage([row({ package: "old" }), row({ package: "new" })], (p) => (p === "new" ? "1" : null))).toBe("new");
  });
});

describe("texts", () => {
  test("summary lines: upgrade, reinstall, unverified; hostile names escaped", () => {
    const base = { package: "coreutils", version: "9.1-2", previous: "9.1-1", files: 105, verified: true, key: "0123456789ABCDEF0123456789ABCDEF01234567", origin: "http://deb.debian.org/debian bookworm", reason: "" };
    expect(packageSummary(base)).toBe("coreutils 9.1-1 → 9.1-2: 105 files, content verified against http://deb.debian.org/debian bookworm (key 89ABCDEF01234567)");
    expect(packageSummary({ ...base, previous: "9.1-2" })).toStartWith("coreutils 9.1-2 reinstalled: 105 files");
    expect(packageSummary({ ...base, verified: false, reason: "no keyring", package: "x\u001b[2J" })).toBe("x\\x1b[2J 9.1-1 → 9.1-2: 105 files, NOT verified (no keyring): its files are checked against dpkg's MD5 list only");
  });
  test("a mismatch shows expected and found", () => {
    const t = annotate({ verdict: "mismatch", package: "p", version: "1", expected: `sha256:${h("a")}`, key: "", origin: "", records: [], attrsDiffer: null }, h("b"));
    expect(t).toContain(`expected: sha256:${h("a")}`);
    expect(t).toContain(`found:    sha256:${h("b")}`);
  });
});
