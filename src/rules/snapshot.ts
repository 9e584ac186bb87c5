// A built Classifier as bytes and back: everything classify()
// needs - each rule's engine (native RegExp source, the lazy DFA's NFA as
// flat arrays, the back-reference flags), the dispatch trie as flat node and
// edge lists, each rule's rest matcher and required literal, the unanchored
// rules' literals, the report sections - so restoring is parsing JSON and
// wiring objects: no rule is parsed, analysed or emitted again. Byte sets
// are stored once each (a table of 64-digit hex strings) and shared by every
// rule, edge and NFA state that uses them.
//
// Contract: toSnapshot(c) of a complete classifier, fromSnapshot(data)
// gives a classifier with the same verdicts and explanations for every line.
// fromSnapshot throws on data that is not a well-formed snapshot (an index
// out of range, a trie edge pointing back, a wrong type): the caller
// (ruleCache in cache.ts) compiles cold then. Integrity against accidental
// damage is the checksum in cache.ts; this is the structural check.

import type { Level } from "../config/config.ts";
import { type CharSet, SetTable } from "./charset.ts";
import { type CompiledRule, type Engine, type EngineKind, engineTest } from "./compile.ts";
import { LazyDfa } from "./dfa.ts";
import { type Rest, RuleIndex } from "./dispatch.ts";
import type { RuleProblem } from "./home.ts";
import { Classifier, type ClassifierParts, type FileRange, type SectionKind } from "./layers.ts";
import { nfaFromInts, nfaToInts } from "./nfa.ts";
import { checkTrie } from "./trie.ts";

/** Bumped when the layout below changes (the cache key also covers the engine's build, cache.ts). */
export const SNAPSHOT_FORMAT = 1;
const MAGIC = "IDRS";

type RangeData = [name: string, start: number, end: number, kind: SectionKind | null, section: string | null];
/** nfa: offset of the NFA in the integers, -1 = none */
type RuleData = [file: string, line: number, source: string, kind: EngineKind, note: string, js: string | null, nfa: number, safe: boolean, positive: boolean];
type RestData = null | ["all"] | ["re", string] | ["dfa", number] | ["re2", string];
type RangeName = "cracking" | "crackingIgnore" | "violations" | "violationsIgnore";

interface Header {
  format: number;
  level: Level;
  crackingIgnoreOn: boolean;
  sets: string[];
  problems: Array<[string, number, string]>;
  rules: RuleData[];
  ranges: Record<RangeName, RangeData[]> & Record<"ignore" | "crackingAll" | "violationsAll", RangeData>;
  /** the flat trie (trie.ts) in the integers: where it starts, its length; its byte sets */
  trie: [at: number, length: number];
  trieSets: string[];
  generic: Array<[number, string]>;
  genericAny: string | null;
  genericAlways: number[];
  rests: RestData[];
  need: string[];
}

function hexOf(s: CharSet): string {
  let h = "";
  for (let i = 0; i < 256; i += 8) {
    let b = 0;
    for (let j = 0; j < 8; j++) b |= s[i + j] << j;
    h += b.toString(16).padStart(2, "0");
  }
  return h;
}

function setOfHex(h: string): CharSet {
  if (typeof h !== "string" || !/^[0-9a-f]{64}$/.test(h)) throw new Error("damaged byte set");
  const s = new Uint8Array(256);
  for (let i = 0; i < 32; i++) {
    const b = parseInt(h.slice(2 * i, 2 * i + 2), 16);
    for (let j = 0; j < 8; j++) s[8 * i + j] = (b >> j) & 1;
  }
  return s;
}

/** The bytes of a built classifier. */
export function encodeSnapshot(c: Classifier): Uint8Array {
  const p = c.parts();
  const table = new SetTable();
  const setIndex = (s: CharSet): number => table.index(s);
  const ints: number[] = [];
  const nfaAt = (d: LazyDfa): number => {
    const at = ints.length;
    nfaToInts(d.automaton, setIndex, ints);
    return at;
  };
  const range = (r: FileRange): RangeData => [r.name, r.start, r.end, r.placement?.kind ?? null, r.placement?.section ?? null];
  const rules: RuleData[] = p.rules.map((r) => {
    const e = r.engine;
    return [r.file, r.line, r.source, e.kind, r.note, e.js, e.dfa === null ? -1 : nfaAt(e.dfa), e.safe, e.positive];
  });
  const trie = p.index.parts().trie;
  const trieAt = ints.length;
  for (const x of trie.t) ints.push(x);
  const trieSets: string[] = [];
  for (let i = 0; i < trie.sets.length; i += 256) trieSets.push(hexOf(trie.sets.subarray(i, i + 256)));
  const rest = (r: Rest | null): RestData => {
    if (r === null) return null;
    if (r.t === "all") return ["all"];
    if (r.t === "dfa") return ["dfa", nfaAt(r.dfa)];
    return [r.t, r.src];
  };
  const ip = p.index.parts();
  const rg = p.ranges;
  const header: Header = {
    format: SNAPSHOT_FORMAT, level: p.level, crackingIgnoreOn: p.crackingIgnoreOn, sets: table.list.map(hexOf),
    problems: p.problems.map((x) => [x.file, x.line, x.message]),
    rules,
    ranges: {
      cracking: rg.cracking.map(range), crackingIgnore: rg.crackingIgnore.map(range), violations: rg.violations.map(range), violationsIgnore: rg.violationsIgnore.map(range),
      ignore: range(rg.ignore), crackingAll: range(rg.crackingAll), violationsAll: range(rg.violationsAll),
    },
    trie: [trieAt, trie.t.length], trieSets,
    generic: ip.generic.map((g) => [g.id, g.lit]), genericAny: ip.genericAny, genericAlways: ip.genericAlways,
    rests: ip.rests.map(rest), need: ip.need,
  };
  const h = Buffer.from(JSON.stringify(header), "utf8");
  const intsAt = (8 + h.length + 3) & ~3;
  const out = new Uint8Array(intsAt + ints.length * 4);
  out.set(Buffer.from(MAGIC, "latin1"), 0);
  new DataView(out.buffer).setUint32(4, h.length, true);
  out.set(h, 8);
  new Int32Array(out.buffer, intsAt, ints.length).set(ints);
  return out;
}

function check(ok: boolean): void {
  if (!ok) throw new Error("damaged snapshot");
}
const isInt = (x: unknown, lo: number, hi: number): boolean => Number.isInteger(x) && (x as number) >= lo && (x as number) < hi;
const isStr = (x: unknown): boolean => typeof x === "string";

/** The classifier of snapshot bytes. Throws on bytes that are not a well-formed snapshot. */
export function decodeSnapshot(bytes: Uint8Array): Classifier {
  check(bytes.length >= 8 && Buffer.from(bytes.subarray(0, 4)).toString("latin1") === MAGIC);
  const hlen = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(4, true);
  check(8 + hlen <= bytes.length);
  const s = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, hlen).toString("utf8")) as Header;
  const intsAt = (8 + hlen + 3) & ~3;
  check(intsAt <= bytes.length && (bytes.length - intsAt) % 4 === 0);
  // the integers in place when aligned (a database blob is), else a copy
  const d = (bytes.byteOffset + intsAt) % 4 === 0 ? new Int32Array(bytes.buffer, bytes.byteOffset + intsAt, (bytes.length - intsAt) / 4)
    : new Int32Array(Uint8Array.prototype.slice.call(bytes, intsAt).buffer);
  check(s !== null && typeof s === "object" && s.format === SNAPSHOT_FORMAT && Array.isArray(s.sets) && Array.isArray(s.rules));
  check(["paranoid", "server", "workstation"].includes(s.level) && typeof s.crackingIgnoreOn === "boolean");
  const sets = s.sets.map(setOfHex);
  const n = s.rules.length;
  const dfaAt = (at: number): LazyDfa => {
    check(isInt(at, 0, d.length));
    return new LazyDfa(() => nfaFromInts(d, at, sets));
  };
  const rules: CompiledRule[] = s.rules.map((r, id) => {
    check(Array.isArray(r) && r.length === 9 && isStr(r[0]) && isInt(r[1], 0, 2 ** 31) && isStr(r[2]) && isStr(r[4]));
    const [file, line, source, kind, note, js, nfa, safe, positive] = r;
    check(["native", "linear", "backref"].includes(kind) && typeof safe === "boolean" && typeof positive === "boolean");
    check((kind === "linear" ? js === null : isStr(js)) && (kind === "native") === (nfa === -1));
    const engine: Engine = { kind, js, dfa: nfa === -1 ? null : dfaAt(nfa), safe, positive };
    return { id, file, line, source, kind, note, engine, test: engineTest(engine), ast: null };
  });
  const problems: RuleProblem[] = (s.problems ?? []).map((x) => {
    check(Array.isArray(x) && isStr(x[0]) && Number.isInteger(x[1]) && isStr(x[2]));
    return { file: x[0], line: x[1], message: x[2] };
  });
  const range = (r: RangeData): FileRange => {
    check(Array.isArray(r) && isStr(r[0]) && isInt(r[1], 0, n + 1) && isInt(r[2], r[1], n + 1));
    check((r[3] === null && r[4] === null) || (["alert", "violation", "system"].includes(r[3] as string) && isStr(r[4])));
    return { name: r[0], start: r[1], end: r[2], placement: r[3] === null ? null : Object.freeze({ kind: r[3], section: r[4]! }) };
  };
  const ranges = (rs: RangeData[]): FileRange[] => {
    check(Array.isArray(rs));
    return rs.map(range);
  };
  const rg = s.ranges;
  check(rg !== null && typeof rg === "object");
  const rests: Array<Rest | null> = (s.rests ?? []).map((r) => {
    if (r === null) return null;
    check(Array.isArray(r));
    if (r[0] === "all") return { t: "all" };
    if (r[0] === "dfa") return { t: "dfa", dfa: dfaAt(r[1]) };
    check((r[0] === "re" || r[0] === "re2") && isStr(r[1]));
    return { t: r[0], src: r[1] as string };
  });
  check(rests.length === n && Array.isArray(s.need) && s.need.length === n && s.need.every(isStr));
  check(Array.isArray(s.generic) && s.generic.every((g) => Array.isArray(g) && isInt(g[0], 0, n) && isStr(g[1])));
  check(s.genericAny === null || isStr(s.genericAny));
  check(Array.isArray(s.genericAlways) && s.genericAlways.every((id) => isInt(id, 0, n)));
  check(Array.isArray(s.trie) && s.trie.length === 2 && isInt(s.trie[0], 0, d.length + 1) && isInt(s.trie[1], 0, d.length - s.trie[0] + 1) && Array.isArray(s.trieSets));
  const trieSets = new Uint8Array(256 * s.trieSets.length);
  s.trieSets.forEach((h, i) => trieSets.set(setOfHex(h), 256 * i));
  const trie = { t: d.subarray(s.trie[0], s.trie[0] + s.trie[1]), sets: trieSets };
  checkTrie(trie, n);
  const index = RuleIndex.restore(rules, {
    trie, generic: s.generic.map(([id, lit]) => ({ id, lit })), genericAny: s.genericAny, genericAlways: s.genericAlways, rests, need: s.need,
  });
  const parts: ClassifierParts = {
    level: s.level, crackingIgnoreOn: s.crackingIgnoreOn, rules, problems, index,
    ranges: {
      cracking: ranges(rg.cracking), crackingIgnore: ranges(rg.crackingIgnore), violations: ranges(rg.violations), violationsIgnore: ranges(rg.violationsIgnore),
      ignore: range(rg.ignore), crackingAll: range(rg.crackingAll), violationsAll: range(rg.violationsAll),
    },
  };
  return Classifier.restore(parts);
}
