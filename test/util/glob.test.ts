// Globs: syntax, UTF-8 and raw bytes, brace expansion, refusals, and linear time on hostile names.
import { describe, expect, test } from "bun:test";
import { checkGlob, compileGlob, decodeChars, expandBraces, globWork, MAX_ALTERNATIVES } from "../../src/util/glob.ts";

const m = (glob: string, path: string | Uint8Array) => compileGlob(glob)(typeof path === "string" ? Buffer.from(path) : path);

describe("glob syntax", () => {
  test("* and ? stay inside one component; a lone * is not empty", () => {
    expect(m("/a/*.c", "/a/x.c")).toBe(true);
    expect(m("/a/*.c", "/a/.c")).toBe(true);
    expect(m("/a/*.c", "/a/b/x.c")).toBe(false);
    expect(m("/a/*", "/a/.hidden")).toBe(true);
    expect(m("/a/*", "/a/")).toBe(false);
    expect(m("/a/x*", "/a/x")).toBe(true);
    expect(m("/a/?", "/a/.")).toBe(true);
    expect(m("/a/?", "/a//")).toBe(false);
    expect(m("/a/?", "/a/xy")).toBe(false);
    expect(m("/a/b*c*", "/a/b.c")).toBe(true);
    expect(m("/a/***", "/a/b")).toBe(true);
    expect(m("/a/***", "/a/b/c")).toBe(false);
    expect(m("/A/*", "/a/x")).toBe(false);
  });
  test("the glob matches the whole path", () => {
    expect(m("/a/*.c", "/a/x.c.o")).toBe(false);
    expect(m("/a/*.c", "/b/a/x.c")).toBe(false);
    expect(m("/a/*/", "/a/b")).toBe(false);
    expect(m("/a//b*", "/a/bx")).toBe(false);
  });
  test("** as a whole component: any number of components, including none", () => {
    expect(m("/a/**/x", "/a/x")).toBe(true);
    expect(m("/a/**/x", "/a/b/c/x")).toBe(true);
    expect(m("/a/**/x", "/a/bx")).toBe(false);
    expect(m("/a/**/x", "/a/b/xx")).toBe(false);
    expect(m("/a/**", "/a")).toBe(true);
    expect(m("/a/**", "/a/.b/c")).toBe(true);
    expect(m("/a/**", "/ab")).toBe(false);
    expect(m("/a/**/**/x", "/a/x")).toBe(true);
    expect(m("**", "/a/b")).toBe(true);
    expect(m("**/x", "/a/x")).toBe(true);
    expect(m("**/x", "x")).toBe(true);
    expect(m("/var/lib/**/*.cache", "/var/lib/z.cache")).toBe(true);
    expect(m("/var/lib/**/*.cache", "/var/lib/x/y/.z.cache")).toBe(true);
    // inside a component, ** is a plain *
    expect(m("/a/b**", "/a/bc")).toBe(true);
    expect(m("/a/b**", "/a/bc/d")).toBe(false);
    expect(m("/a/**b", "/a/x/b")).toBe(false);
  });
  test("classes: ranges, negation by ! or ^, ] and - as members, POSIX names; never '/'", () => {
    expect(m("/a/[bc]", "/a/b")).toBe(true);
    expect(m("/a/[bc]", "/a/d")).toBe(false);
    expect(m("/a/[a-c]x", "/a/bx")).toBe(true);
    expect(m("/a/[!bc]", "/a/d")).toBe(true);
    expect(m("/a/[!bc]", "/a/b")).toBe(false);
    expect(m("/a/[^bc]", "/a/d")).toBe(true);
    expect(m("/a/[!a-c]", "/a//")).toBe(false);
    expect(m("/a/[]]", "/a/]")).toBe(true);
    expect(m("/a/[a-]", "/a/-")).toBe(true);
    expect(m("/a/[\\]]", "/a/]")).toBe(true);
    expect(m("/a/[[:digit:]]x", "/a/7x")).toBe(true);
    expect(m("/a/[[:digit:]]x", "/a/ax")).toBe(false);
    expect(m("/a/[é-ë]", "/a/ê")).toBe(true);
  });
  test("escapes and characters without meaning are literal", () => {
    expect(m("/a/\\*", "/a/*")).toBe(true);
    expect(m("/a/\\*", "/a/x")).toBe(false);
    expect(m("/a/$x+^*", "/a/$x+^y")).toBe(true);
    expect(m("/a/*\\(1)", "/a/x(1)")).toBe(true);
    expect(m("/a/*}", "/a/b}")).toBe(true);
    expect(m("/a/*{x}", "/a/b{x}")).toBe(true);
  });
  test("braces: alternatives, nested, empty, ranges", () => {
    expect(m("/a/*.{c,h}", "/a/x.h")).toBe(true);
    expect(m("/a/*.{c,h}", "/a/x.o")).toBe(false);
    expect(m("/a/{b,c/d}*", "/a/c/dx")).toBe(true);
    expect(m("/a/*{,.bak}", "/a/x")).toBe(true);
    expect(m("/a/{a,{b,c}}*", "/a/cx")).toBe(true);
    expect(m("/a/\\{a,b}*", "/a/{a,b}x")).toBe(true);
    expect(m("/a/x{1..3}*", "/a/x2")).toBe(true);
    expect(m("/a/x{1..3}*", "/a/x4")).toBe(false);
    expect(expandBraces("/a/{x,y{1..3}}/{p,q}")).toEqual(["/a/x/p", "/a/x/q", "/a/y1/p", "/a/y1/q", "/a/y2/p", "/a/y2/q", "/a/y3/p", "/a/y3/q"]);
    expect(expandBraces("{c..a}{08..10}")).toEqual(["c08", "c09", "c10", "b08", "b09", "b10", "a08", "a09", "a10"]);
    expect(expandBraces("[{]{a,b}")).toEqual(["[{]a", "[{]b"]);
  });
});

describe("characters", () => {
  test("UTF-8 is decoded: ? takes one character", () => {
    expect(m("/a/?", "/a/é")).toBe(true);
    expect(m("/a/é?", "/a/éé")).toBe(true);
    expect(m("/a/??", "/a/é")).toBe(false);
  });
  test("an invalid byte is one character that only wildcards and negated classes match", () => {
    const raw = (...parts: (string | number)[]) => new Uint8Array(parts.flatMap((p) => (typeof p === "number" ? [p] : [...Buffer.from(p)])));
    expect(m("/a/*.swp", raw("/a/", 0xff, ".swp"))).toBe(true);
    expect(m("/a/?", raw("/a/", 0xc3))).toBe(true);
    expect(m("/a/??", raw("/a/", 0xe2, 0x82))).toBe(true); // a truncated sequence: two characters
    expect(m("/a/[!x]", raw("/a/", 0x80))).toBe(true);
    expect(m("/a/[^-~]", raw("/a/", 0x80))).toBe(true);
    expect(m("/a/\ufffd*", raw("/a/", 0xff))).toBe(false);
    expect(m("/a/[\u0080-\uffff]", raw("/a/", 0xff))).toBe(false);
    expect([...decodeChars(raw(0xc0, 0x80, 0xed, 0xa0, 0x80, 0xf0, 0x9f, 0x98, 0x80), 0)]).toEqual([-1 - 0xc0, -1 - 0x80, -1 - 0xed, -1 - 0xa0, -1 - 0x80, 0x1f600]);
  });
});

describe("checkGlob", () => {
  test("a good glob passes", () => {
    for (const g of ["/var/lib/**/*.cache", "/etc/*.sw[po]", "/a/{x,y}/?", "/a/[[:alpha:]]*", "/plain/path"]) expect(checkGlob(g)).toBeNull();
  });
  test("bad globs get a message naming the problem", () => {
    expect(checkGlob("/etc/[abc")).toContain("unclosed '['");
    expect(checkGlob("/etc/*.swp{")).toContain("unmatched '{'");
    expect(checkGlob("/etc/[z-a]*")).toContain("reversed range");
    expect(checkGlob("/etc/*[/]")).toContain("cannot hold '/'");
    expect(checkGlob("/etc/*[[:nope:]]")).toContain("unknown class");
    expect(checkGlob("/etc/+(a|b)*")).toContain("not supported");
    expect(checkGlob("/etc/@(a|b)*")).toContain("not supported");
    expect(checkGlob("/etc/*(a)")).toContain("not supported");
    expect(checkGlob(`/etc/*{1..${MAX_ALTERNATIVES + 1}}`)).toContain(`more than ${MAX_ALTERNATIVES}`);
    expect(checkGlob("/etc/{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}*")).toContain(`more than ${MAX_ALTERNATIVES}`);
    expect(checkGlob("/etc/{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}*")).toBeNull(); // exactly 64
  });
});

describe("linear time on hostile names", () => {
  const time = (f: () => void) => {
    const t0 = performance.now();
    f();
    return performance.now() - t0;
  };
  test("254 dots against *.*.*.*.*.bak, 10,000 times, in seconds at most", () => {
    const g = compileGlob("/home/u/*.*.*.*.*.bak");
    const name = Buffer.from(`/home/u/${".".repeat(254)}`);
    g(name); // warm up
    let hits = 0;
    const ms = time(() => { for (let i = 0; i < 10_000; i++) if (g(name)) hits++; });
    expect(hits).toBe(0);
    // ~0.5 s alone; a backtracking matcher needs minutes for one (margin for a loaded machine)
    expect(ms).toBeLessThan(3000);
    expect(g(Buffer.from(`/home/u/${".".repeat(254)}bak`))).toBe(true);
  });
  test("**/**/**/**/x against a 4,000-byte deep path: work is O(n·m)", () => {
    const g = compileGlob("/d/**/**/**/**/x");
    const deep = Buffer.from(`/d${"/a".repeat(1999)}`);
    expect(deep.length).toBe(4000);
    const before = globWork.states;
    expect(g(deep)).toBe(false);
    const work = globWork.states - before;
    // at most every state live at every character: (n + 1) · states, states < 40 here
    expect(work).toBeLessThan(4001 * 40);
    expect(g(Buffer.concat([deep, Buffer.from("/x")]))).toBe(true);
    const ms = time(() => { for (let i = 0; i < 200; i++) g(deep); });
    expect(ms).toBeLessThan(5000);
  });
  test("work grows linearly with the path, not with its square", () => {
    const g = compileGlob("/h/*a*a*a*a*a*a*a*a*b");
    const cost = (n: number) => {
      const before = globWork.states;
      g(Buffer.from(`/h/${"a".repeat(n)}`));
      return globWork.states - before;
    };
    const small = cost(1000);
    const big = cost(8000);
    expect(big).toBeLessThan(small * 8 * 1.1);
  });
});
