// Probe-string generation for differential tests: strings built from a
// rule's own AST (likely matches), mutations of them (likely near misses),
// and random byte strings. Deterministic (seeded).

import type { Node } from "../../src/rules/parse.ts";

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PALETTE = "a0 :[]()-._/\\=<>,;\x00\x01\t\r\x0b\xe9\xff\x80Zz9|*+?{}^$";

function pickFromSet(set: Uint8Array, r: () => number): string {
  const members: number[] = [];
  const printable: number[] = [];
  for (let c = 0; c < 256; c++) {
    if (!set[c] || c === 10) continue;
    members.push(c);
    if (c >= 32 && c < 127) printable.push(c);
  }
  if (members.length === 0) return "";
  const from = printable.length > 0 && r() < 0.85 ? printable : members;
  return String.fromCharCode(from[Math.floor(r() * from.length)]);
}

export interface SampleOptions {
  extra: number; // extra repetitions beyond the minimum, chosen in 0..extra
  big?: number; // when set, unbounded loops repeat this many times
}

export function sample(ast: Node, r: () => number, o: SampleOptions): string {
  const caps = new Map<number, string>();
  const go = (n: Node): string => {
    switch (n.t) {
      case "empty": case "bol": case "eol": case "wordb": case "nwordb": case "wstart": case "wend":
        return "";
      case "set": return pickFromSet(n.set, r);
      case "cat": return n.items.map(go).join("");
      case "alt": return go(n.alts[Math.floor(r() * n.alts.length)]);
      case "group": {
        const s = go(n.body);
        caps.set(n.n, s);
        return s;
      }
      case "bref": return caps.get(n.n) ?? "";
      case "rep": {
        let k: number;
        if (n.max === -1 && o.big !== undefined) k = Math.max(n.min, o.big);
        else {
          k = n.min + Math.floor(r() * (o.extra + 1));
          if (n.max !== -1) k = Math.min(k, n.max);
        }
        k = Math.min(k, 5000);
        let s = "";
        for (let i = 0; i < k; i++) s += go(n.body);
        return s;
      }
    }
  };
  return go(ast);
}

export function mutate(s: string, r: () => number): string {
  const op = Math.floor(r() * 6);
  const i = Math.floor(r() * (s.length + 1));
  const ch = PALETTE[Math.floor(r() * PALETTE.length)];
  switch (op) {
    case 0: return s.slice(0, i) + s.slice(i + 1);
    case 1: return s.slice(0, i) + ch + s.slice(i);
    case 2: return s.slice(0, i) + ch + s.slice(i + 1);
    case 3: return s.slice(0, i);
    case 4: return s.slice(i);
    default: return s.slice(0, i) + s.slice(i, i + 3) + s.slice(i);
  }
}

export function randomString(r: () => number, len: number, alphabet = PALETTE): string {
  let s = "";
  for (let i = 0; i < len; i++) s += alphabet[Math.floor(r() * alphabet.length)];
  return s;
}

/** Probes for a pattern: samples, mutations and random strings, no newlines, deduplicated. */
export function probes(ast: Node, seed: number, n = 12): string[] {
  const r = rng(seed);
  const out = new Set<string>([""]);
  for (let i = 0; i < n; i++) {
    const s = sample(ast, r, { extra: 3 });
    out.add(s);
    out.add(mutate(s, r));
    out.add(mutate(mutate(s, r), r));
    out.add(randomString(r, 1 + Math.floor(r() * 6)) + s + randomString(r, Math.floor(r() * 4)));
  }
  for (let i = 0; i < n / 2; i++) out.add(randomString(r, Math.floor(r() * 12)));
  return [...out].map((s) => s.replace(/\n/g, ""));
}

/** Run async jobs with a concurrency limit. */
export async function pool<T>(items: T[], limit: number, f: (t: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await f(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
