// A linear-time matcher for rule ASTs on byte strings: Thompson NFA built
// from the AST, run as a lazily built DFA (subset construction on demand,
// transitions cached per state and byte). Each input byte costs one table
// lookup once the states it needs exist; building a state costs O(NFA size),
// and the number of cached states is capped (the cache is dropped and
// rebuilt when full), so a line of n bytes costs at most O(n * NFA size)
// whatever the pattern and the input. No back-references.
//
// Zero-width assertions (^ $ \b \B \< \>) are evaluated during the epsilon
// closure, which therefore depends on the previous byte (word or not, start
// of line) and on the next byte (or end of line); the previous byte's class
// is part of the DFA state and the closure is taken when the next byte is
// known, i.e. inside the transition.
//
// A line that needs more new states than the cache holds (a hostile line
// crafted so every byte reaches a new subset) would rebuild the cache again
// and again, paying for keys, lookups and table resets on top of the closure.
// After MAX_BUILT_PER_LINE new states in one line the rest of that line is
// run as a plain NFA simulation: the same closure step per byte, nothing
// cached. Same answer, bounded cost: O(closure size) per byte, the NFA size
// at most, with a smaller constant than the thrashing cache.

import { WORD } from "./charset.ts";
import { ASSERT, CHAR, MATCH, MAX_NFA_STATES, type Nfa, nfaOf, SPLIT } from "./nfa.ts";
import type { Node } from "./parse.ts";

export { MAX_NFA_STATES };

/**
 * One budget of cached DFA states for the whole process (every rule of every
 * loaded rule set): at most GLOBAL_DFA_STATES * 257 * 4 bytes = 4 MiB of
 * transition tables. A DFA that needs a new state when the budget is spent
 * drops the caches of other DFAs, round robin, until there is room; each
 * rebuilds what it needs on its next line. Same answers, bounded memory: a
 * per-rule cap alone allowed ~300 rules * 263 KiB.
 */
export const GLOBAL_DFA_STATES = 4096;

class StateBudget {
  live = 0;
  private dfas: Array<WeakRef<LazyDfa>> = [];
  private cursor = 0;
  private readonly gone = new FinalizationRegistry<{ n: number }>((held) => {
    this.live -= held.n;
    held.n = 0;
  });

  constructor(readonly limit: number) {}

  register(d: LazyDfa, held: { n: number }): void {
    this.dfas.push(new WeakRef(d));
    this.gone.register(d, held);
  }

  /** Make room for one more state of `self`, dropping other DFAs' caches. */
  reserve(self: LazyDfa): void {
    let scanned = 0;
    while (this.live >= this.limit && scanned < this.dfas.length) {
      if (this.cursor >= this.dfas.length) this.cursor = 0;
      const d = this.dfas[this.cursor].deref();
      if (d === undefined) {
        this.dfas[this.cursor] = this.dfas[this.dfas.length - 1];
        this.dfas.pop();
        continue;
      }
      this.cursor++;
      scanned++;
      if (d !== self) d.dropCache();
    }
  }
}

/** The process-wide budget (exported for tests and the bench). */
export const dfaBudget = new StateBudget(GLOBAL_DFA_STATES);
const MAX_DFA_STATES = 256; // at most 256 * 257 * 4 bytes = 263 KiB of tables per rule
/** New states one line may build before its rest runs uncached (see the header). */
export const MAX_BUILT_PER_LINE = 2 * MAX_DFA_STATES;
const END = 256;
const ACCEPT = -2;
const UNKNOWN = -1;
const DEAD = -3;
const NO_TABLE = new Int32Array(0);

function isWordByte(c: number): number {
  return c < 256 && WORD[c] === 1 ? 1 : 0;
}

/**
 * Compiled matcher. `test(line)` searches anywhere (grep semantics);
 * `testAt(line, pos)` matches anchored at pos (the byte before pos is context).
 */
export class LazyDfa {
  private nfa!: Nfa;
  private start = 0;
  private kernels: Int32Array[] = [];
  private keyToId = new Map<string, number>();
  // transitions, 257 per state (256 bytes + end of line), flat for speed;
  // allocated with the first state (most rules' DFAs never run)
  private table: Int32Array = NO_TABLE;
  private generation = 0; // bumped when the state cache is dropped
  private prevWord: number[] = [];
  private stamp = NO_TABLE;
  private stampGen = 0;
  private stack: number[] = [];

  private readonly builtPerLine: number;
  /** states this DFA holds of the global budget (shared with the finalizer) */
  private readonly held = { n: 0 };

  /**
   * `builtPerLine`: override MAX_BUILT_PER_LINE (tests). From a syntax tree,
   * an NFA, or a function that makes the NFA when the first line needs it
   * (the compiled-rules cache: most rules' DFAs never run).
   */
  constructor(from: Node | Nfa | (() => Nfa), builtPerLine = MAX_BUILT_PER_LINE) {
    this.builtPerLine = builtPerLine;
    if (typeof from === "function") this.make = from;
    else this.setNfa("t" in from ? nfaOf(from) : from);
    dfaBudget.register(this, this.held);
  }

  private make: (() => Nfa) | null = null;
  private setNfa(nfa: Nfa): void {
    this.nfa = nfa;
    this.start = nfa.start;
    this.stamp = new Int32Array(nfa.kind.length);
    this.make = null;
  }

  /** The automaton this DFA runs (for the compiled-rules cache). */
  get automaton(): Nfa {
    if (this.make !== null) this.setNfa(this.make());
    return this.nfa;
  }

  /** Forget every cached state (the next line rebuilds what it needs). */
  dropCache(): void {
    if (this.kernels.length === 0) return;
    dfaBudget.live -= this.held.n;
    this.held.n = 0;
    this.pre = [null, null, null, null, null, null, null, null];
    this.kernels = [];
    this.prevWord = [];
    this.keyToId.clear();
    this.table = NO_TABLE;
    this.generation++;
  }

  /** Cached states now. */
  get cachedStates(): number {
    return this.kernels.length;
  }

  get nfaSize(): number {
    return this.automaton.kind.length;
  }

  private stateId(kernel: Int32Array, prevWord: number, search: boolean): number {
    const key = (search ? "s" : "a") + (this.nfa.usesWord ? prevWord : 0) + ":" + kernel.join(",");
    let id = this.keyToId.get(key);
    if (id !== undefined) return id;
    if (this.kernels.length >= MAX_DFA_STATES) this.dropCache();
    dfaBudget.reserve(this);
    if (dfaBudget.live >= dfaBudget.limit && this.kernels.length > 0) this.dropCache();
    id = this.kernels.length;
    this.held.n++;
    dfaBudget.live++;
    this.kernels.push(kernel);
    this.prevWord.push(this.nfa.usesWord ? prevWord : 0);
    if ((id + 1) * 257 > this.table.length) {
      const bigger = new Int32Array(Math.min(MAX_DFA_STATES, Math.max(8, (id + 1) * 2)) * 257).fill(UNKNOWN);
      bigger.set(this.table);
      this.table = bigger;
    }
    this.keyToId.set(key, id);
    return id;
  }

  /** Closure of a kernel given context; returns the char states reached, or null if MATCH reached. */
  private step(kernel: Int32Array, prevWord: number, atStart: boolean, next: number, search: boolean): Int32Array | null {
    const nfa = this.nfa;
    const gen = ++this.stampGen;
    if (gen === 0x7fffffff) { this.stamp.fill(0); this.stampGen = 1; }
    const g = this.stampGen;
    const stack = this.stack;
    stack.length = 0;
    for (let i = kernel.length - 1; i >= 0; i--) stack.push(kernel[i]);
    if (search) stack.push(this.start);
    const nextWord = next === END ? 0 : isWordByte(next);
    const out: number[] = [];
    while (stack.length > 0) {
      const s = stack.pop()!;
      if (this.stamp[s] === g) continue;
      this.stamp[s] = g;
      const k = nfa.kind[s];
      if (k === MATCH) return null;
      if (k === CHAR) {
        if (next !== END && nfa.set[s]![next] === 1) out.push(nfa.out1[s]);
        continue;
      }
      if (k === SPLIT) {
        if (nfa.out2[s] >= 0) stack.push(nfa.out2[s]);
        if (nfa.out1[s] >= 0) stack.push(nfa.out1[s]);
        continue;
      }
      // ASSERT
      let ok = false;
      switch (nfa.assertion[s]) {
        case "bol": ok = atStart; break;
        case "eol": ok = next === END; break;
        case "wordb": ok = prevWord !== nextWord; break;
        case "nwordb": ok = prevWord === nextWord; break;
        case "wstart": ok = prevWord === 0 && nextWord === 1; break;
        case "wend": ok = prevWord === 1 && nextWord === 0; break;
      }
      if (ok) stack.push(nfa.out1[s]);
    }
    // dedupe and sort the next kernel (states reached by consuming `next`)
    out.sort((a, b) => a - b);
    let w = 0;
    for (let i = 0; i < out.length; i++) if (i === 0 || out[i] !== out[i - 1]) out[w++] = out[i];
    out.length = w;
    return Int32Array.from(out);
  }

  // transitions out of the start, per context (at start of line, previous byte a word byte)
  private pre: Array<Int32Array | null> = [null, null, null, null, null, null, null, null];

  private run(line: string, pos: number, search: boolean): boolean {
    if (this.make !== null) this.setNfa(this.make());
    const ctx = (pos === 0 ? 2 : 0) + (pos > 0 ? isWordByte(line.charCodeAt(pos - 1)) : 0);
    let pt = this.pre[ctx + (search ? 4 : 0)];
    if (!pt) {
      pt = new Int32Array(257);
      pt.fill(UNKNOWN);
      this.pre[ctx + (search ? 4 : 0)] = pt;
    }
    const firstNext = pos < line.length ? line.charCodeAt(pos) : END;
    let sid = pt[firstNext];
    if (sid === UNKNOWN) {
      const k0 = this.step(Int32Array.from([this.start]), ctx & 1, (ctx & 2) !== 0, firstNext, false);
      if (k0 === null) sid = ACCEPT;
      else if (firstNext === END || (k0.length === 0 && !search)) sid = DEAD;
      else {
        const gen = this.generation;
        sid = this.stateId(k0, isWordByte(firstNext), search);
        if (this.generation !== gen) pt = this.pre[ctx + (search ? 4 : 0)] = new Int32Array(257).fill(UNKNOWN);
      }
      pt[firstNext] = sid;
    }
    if (sid === ACCEPT) return true;
    if (sid < 0) return false;
    const n = line.length;
    let i = pos + 1;
    let table = this.table;
    let base = sid * 257;
    let built = 0;
    for (;;) {
      let c: number;
      let nx: number;
      if (i < n) {
        c = line.charCodeAt(i);
        nx = table[base + c];
        if (nx >= 0) {
          base = nx * 257;
          i++;
          continue;
        }
      } else {
        c = END;
        nx = table[base + END];
      }
      if (nx === UNKNOWN) {
        const s = base / 257;
        if (++built > this.builtPerLine) return this.simulate(this.kernels[s], this.prevWord[s], line, i, search);
        const k = this.step(this.kernels[s], this.prevWord[s], false, c, search);
        if (k === null) nx = ACCEPT;
        else if (c === END || (k.length === 0 && !search)) nx = DEAD;
        else {
          const gen = this.generation;
          nx = this.stateId(k, isWordByte(c), search);
          table = this.table;
          if (this.generation !== gen) {
            // the cache was dropped: continue from the new state, nothing to record
            base = nx * 257;
            i++;
            continue;
          }
        }
        table[base + c] = nx;
        if (nx >= 0) {
          base = nx * 257;
          i++;
          continue;
        }
      }
      return nx === ACCEPT;
    }
  }

  /**
   * The rest of a line from position i (not yet consumed) as an NFA
   * simulation, starting from a state's kernel: the transitions of run()
   * without the cache.
   */
  private simulate(kernel: Int32Array, prevWord: number, line: string, i: number, search: boolean): boolean {
    const n = line.length;
    for (;;) {
      const c = i < n ? line.charCodeAt(i) : END;
      const k = this.step(kernel, prevWord, false, c, search);
      if (k === null) return true;
      if (c === END || (k.length === 0 && !search)) return false;
      kernel = k;
      prevWord = this.nfa.usesWord ? isWordByte(c) : 0;
      i++;
    }
  }

  /** grep semantics: does the pattern match anywhere in the line? */
  test(line: string): boolean {
    // search mode re-adds the start state at every position; the first
    // position is handled in run() with the right start-of-line context.
    return this.run(line, 0, true);
  }

  /** Does the pattern match starting exactly at pos? */
  testAt(line: string, pos: number): boolean {
    return this.run(line, pos, false);
  }
}
