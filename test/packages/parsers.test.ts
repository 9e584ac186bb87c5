// Release, Packages/status stanzas, md5sums, conffiles, apt sources and armor.
import { describe, expect, test } from "bun:test";
import { aptDirs, packageDebs } from "../../src/packages/archive.ts";
import { dearmor } from "../../src/packages/armor.ts";
import { parseStanzas } from "../../src/packages/deb822.ts";
import { parseConffiles, parseMd5sums, parseStatus } from "../../src/packages/dpkg.ts";
import { parseRelease } from "../../src/packages/release.ts";
import { parseSourcesDeb822, parseSourcesList, releasePrefix, uriToFileName } from "../../src/packages/sources.ts";

const H = "a".repeat(64);

describe("deb822 and Release", () => {
  test("stanzas: continuation lines, case-insensitive names, CRLF, comments", () => {
    const s = parseStanzas("Package: a\r\nDescription: x\n more\n .\n end\n# c\n\n\npackage: b\nVersion: 2\n");
    expect(s.length).toBe(2);
    expect(s[0].get("description")).toBe("x\nmore\n\nend");
    expect(s[1].get("package")).toBe("b");
  });
  test("Release: SHA256 lines only, bad lines dropped", () => {
    const r = parseRelease(`Origin: Test\nSuite: stable\nMD5Sum:\n ${"b".repeat(32)} 10 main/binary-amd64/Packages\nSHA256:\n ${H} 10 main/binary-amd64/Packages\n ${"z".repeat(64)} 5 bad\n ${H} x bad2\n`);
    expect(r.origin).toBe("Test");
    expect([...r.files.keys()]).toEqual(["main/binary-amd64/Packages"]);
    expect(r.files.get("main/binary-amd64/Packages")).toEqual({ sha256: H, size: 10 });
  });
});

describe("dpkg records", () => {
  test("status: installed packages with conffiles; not-installed ones left out", () => {
    const st = parseStatus([
      "Package: a\nStatus: install ok installed\nVersion: 1:2.0-1\nArchitecture: amd64\nConffiles:\n /etc/a.conf 0123456789abcdef0123456789abcdef\n /etc/old.conf 0123456789abcdef0123456789abcdef obsolete\n",
      "Package: b\nStatus: deinstall ok config-files\nVersion: 1\n",
    ].join("\n"));
    expect(st.map((p) => p.package)).toEqual(["a"]);
    expect(st[0].version).toBe("1:2.0-1");
    expect(st[0].conffiles.get("/etc/a.conf")).toBe("0123456789abcdef0123456789abcdef");
    expect(st[0].conffiles.has("/etc/old.conf")).toBe(true);
  });
  test("md5sums and conffiles", () => {
    const m = parseMd5sums(`${"A".repeat(32)}  usr/bin/x y\nnot a line\n${"b".repeat(32)}  usr/share/z\n`);
    expect(m.get("/usr/bin/x y")).toBe("a".repeat(32));
    expect(m.size).toBe(2);
    expect([...parseConffiles("/etc/x\nremove-on-upgrade /etc/y\nrelative\n")]).toEqual(["/etc/x", "/etc/y"]);
  });
});

describe("apt sources", () => {
  test("one-line entries with signed-by; deb-src and comments skipped", () => {
    const e = parseSourcesList("# c\ndeb-src http://x/ y main\ndeb [arch=amd64 signed-by=/k/a.gpg] http://deb.example.org/debian/ bookworm main contrib\ndeb file:/srv/repo ./\n", "l");
    expect(e.length).toBe(2);
    expect(e[0]).toMatchObject({ uri: "http://deb.example.org/debian", suite: "bookworm", components: ["main", "contrib"], keyFiles: ["/k/a.gpg"], from: "l:3" });
    expect(releasePrefix(e[0])).toBe("deb.example.org_debian_dists_bookworm_");
    expect(releasePrefix(e[1])).toBe("_srv_repo_._");
  });
  test("deb822: several URIs and suites, Enabled: no, inline keys", () => {
    const e = parseSourcesDeb822("Types: deb deb-src\nURIs: http://a/d\nSuites: s1 s2\nComponents: main\nSigned-By: /k.gpg\n\nTypes: deb\nURIs: http://b/\nSuites: x\nEnabled: no\n\nTypes: deb\nURIs: http://c/\nSuites: y\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n AAAA\n -----END PGP PUBLIC KEY BLOCK-----\n", "s");
    expect(e.map((x) => `${x.uri} ${x.suite}`)).toEqual(["http://a/d s1", "http://a/d s2", "http://c y"]);
    expect(e[2].inlineKey).not.toBeNull();
    expect(dearmor(e[2].inlineKey!)).toEqual(new Uint8Array([0, 0, 0]));
  });
  test("URItoFileName: credentials dropped, unsafe bytes quoted", () => {
    expect(uriToFileName("http://user:pw@h.example/a_b~c/")).toBe("h.example_a%5fb%7ec_");
  });
});

describe("Packages indexes and apt's directories", () => {
  test("the four fields of every stanza, the first included; incomplete stanzas skipped", () => {
    const text = `Package: a\nVersion: 1\nArchitecture: all\nSHA256: ${H}\nDescription: x\n Version: 9\n\n\nPackage: b\nVersion: 2\nArchitecture: amd64\n\nPackage: c\nArchitecture: amd64\nSHA256: ${H.toUpperCase()}\nVersion: 3\n`;
    const got: string[] = [];
    packageDebs(Buffer.from(text), (p, v, a, h) => got.push(`${p} ${v} ${a} ${h === H}`));
    expect(got).toEqual(["a 1 all true", "c 3 amd64 true"]);
  });
  test("apt's configuration items to directories: relative ones under their parents", () => {
    const d = aptDirs(new Map([["dir", "/r/"], ["dir::state::lists", "/tmp/l"], ["dir::cache", "c/"], ["apt::architectures::", "i386"]]));
    expect(d).toMatchObject({ lists: "/tmp/l", archives: "/r/c/archives/", sourceList: "/r/etc/apt/sources.list", archs: ["amd64", "i386"] });
  });
});
