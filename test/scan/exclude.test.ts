// `exclude` matching: exact paths by whole components, and globs.
import { describe, expect, test } from "bun:test";
import { checkGlob, isGlob, makeExcluder } from "../../src/scan/exclude.ts";
import { pathFrom } from "../../src/scan/paths.ts";

const b = (s: string) => pathFrom(s);

describe("exclude", () => {
  test("exact path and prefix by whole components", () => {
    const m = makeExcluder(["/etc/mtab", "/var/log/"]);
    expect(m(b("/etc/mtab"))).toBe(true);
    expect(m(b("/etc/mtab/x"))).toBe(true);
    expect(m(b("/etc/mtab.evil"))).toBe(false);
    expect(m(b("/var/log/syslog"))).toBe(true);
    expect(m(b("/var/logger"))).toBe(false);
    expect(m(b("/etc/passwd"))).toBe(false);
  });
  test("glob characters make a glob over the whole path", () => {
    expect(isGlob("/var/lib/**/*.cache")).toBe(true);
    expect(isGlob("/etc/a?b")).toBe(true);
    expect(isGlob("/etc/[ab]")).toBe(true);
    expect(isGlob("/etc/plain")).toBe(false);
    const m = makeExcluder(["/var/lib/**/*.cache", "/etc/*.swp"]);
    expect(m(b("/var/lib/x/y/z.cache"))).toBe(true);
    expect(m(b("/var/lib/z.cache"))).toBe(true);
    expect(m(b("/var/lib/x/.hidden.cache"))).toBe(true);
    expect(m(b("/var/lib/x/z.cache2"))).toBe(false);
    expect(m(b("/etc/.passwd.swp"))).toBe(true);
    expect(m(b("/etc/sub/a.swp"))).toBe(false);
    // a non-UTF-8 name is still matched by a wildcard
    expect(m(new Uint8Array([...Buffer.from("/etc/"), 0xff, ...Buffer.from(".swp")]))).toBe(true);
  });
  test("a malformed glob matches nothing and never throws; checkGlob says why", () => {
    const m = makeExcluder(["/etc/[abc", "/etc/*.swp{", "/var/log/"]);
    expect(m(b("/etc/[abc"))).toBe(false);
    expect(m(b("/etc/a.swp{"))).toBe(false);
    expect(m(b("/etc/a.swp"))).toBe(false);
    expect(m(b("/var/log/x"))).toBe(true);
    expect(checkGlob("/etc/[abc")).toContain("unclosed '['");
    expect(checkGlob("/etc/*.swp{")).toContain("unmatched '{'");
    expect(checkGlob("/etc/*.swp")).toBeNull();
  });
  test("a hostile name does not stall the excluder", () => {
    const m = makeExcluder(["/home/*.*.*.*.*.bak", "/home/**/**/**/**/x"]);
    const dots = b(`/home/${".".repeat(254)}`);
    const deep = b(`/home${"/a".repeat(2000)}`);
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) if (m(dots) || m(deep)) throw new Error("matched");
    expect(performance.now() - t0).toBeLessThan(5000); // backtracking: minutes for one
  });
});
