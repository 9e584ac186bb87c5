// logcheck's section logic, one line at a time, and its report format.
//
// Sections as /usr/sbin/logcheck 1.4 computes them (greplogoutput/cleanchecked):
//  * "Security Alerts [for F]" - for each cracking.d file F (title without
//    "for F" when F is "logcheck"): lines matching F; with cracking-ignore
//    support, minus cracking.ignore.d/F, cracking.ignore.d/logcheck-F, and,
//    for F = logcheck, minus every cracking.ignore.d file; for F = logcheck
//    also minus lines matching a cracking.d file whose name does not start
//    with "logchec" (bash's `=~ ^logcheck*`); minus cracking.ignore.d/local
//    and local-*.
//  * "Security Events [for F]" - the same for violations.d with
//    violations.ignore.d, and also minus every line matching a cracking.d
//    rule. (logcheck applies that last filter when some alert was reported
//    in the same run; without cracking-ignore support that is exactly "when
//    some line matches a cracking.d rule", so per line it is the same thing.
//    With cracking-ignore support on and every alert of a run ignored,
//    logcheck would keep such a line as an event; we drop it - a documented,
//    per-line-deterministic difference.)
//  * "System Events" - lines matched by no ignore rule of the level, by no
//    cracking.d rule and by no violations.d rule. A violation cancelled by
//    violations.ignore.d therefore appears nowhere, as in logcheck.
// A line may be listed under several "for F" sections, as in logcheck.
// One deliberate difference: logcheck with cracking-ignore support on but no
// cracking.ignore.d dir reports no alerts at all; we treat it as empty.
//
// Lines are byte strings (latin1). Trailing whitespace ([[:space:]]) is
// stripped before matching, as logcheck's `sed -e 's/[[:space:]]\+$//'`.

import { yieldToLoop } from "../util/loop.ts";
import { type CompiledRule, RuleIndex, compileRule } from "./engine.ts";
import { type Level, type RuleFile, type RuleProblem, type RuleSet, type RuleTree, readRuleHome, selectRules } from "./rules.ts";

export const ALERTS = "Security Alerts";
export const EVENTS = "Security Events";
export const SYSTEM = "System Events";
const NO_SECTIONS: string[] = Object.freeze([]) as unknown as string[];
const SYSTEM_ONLY: string[] = Object.freeze([SYSTEM]) as unknown as string[];
const NO_WHY: string[] = Object.freeze([]) as unknown as string[];

interface FileRange {
  name: string;
  start: number; // first rule id
  end: number; // one past the last rule id
}

export interface Verdict {
  line: string; // the line as matched (trailing whitespace stripped)
  /** Section titles the line is reported under, in report order; empty = not reported. */
  sections: string[];
  /** FILE:LINE explanations, for --explain. */
  why: string[];
}

export interface RiskyRule {
  where: string; // FILE:LINE
  kind: "linear" | "re2" | "backref";
  note: string;
}

export interface LoadOptions {
  level: Level;
  crackingIgnore?: boolean;
}

/** Strip trailing [[:space:]] (C locale) like logcheck's sed. */
export function stripTrailing(line: string): string {
  let e = line.length;
  while (e > 0) {
    const c = line.charCodeAt(e - 1);
    if (c === 32 || (c >= 9 && c <= 13)) e--;
    else break;
  }
  return e === line.length ? line : line.slice(0, e);
}

/** Turn any JS string into a byte string: chars above 0xff are re-encoded as UTF-8 bytes. */
export function toByteString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 255) return Buffer.from(s, "utf8").toString("latin1");
  }
  return s;
}

export class Classifier {
  readonly rules: CompiledRule[] = [];
  readonly problems: RuleProblem[] = [];
  private index: RuleIndex = new RuleIndex([]);
  private cracking: FileRange[] = [];
  private crackingIgnore: FileRange[] = [];
  private violations: FileRange[] = [];
  private violationsIgnore: FileRange[] = [];
  private ignore: FileRange = { name: "", start: 0, end: 0 };
  private crackingAll: FileRange = { name: "", start: 0, end: 0 };
  private violationsAll: FileRange = { name: "", start: 0, end: 0 };
  readonly level: Level;
  private readonly crackingIgnoreOn: boolean;

  /**
   * Compile a rule set. This takes about 1-2 s for Debian's ~1,900 rules;
   * inside the daemon use loadClassifier(), which does the same work in
   * slices and yields to the event loop in between.
   */
  constructor(set: RuleSet, lazy = false) {
    this.level = set.level;
    this.crackingIgnoreOn = set.crackingIgnoreEnabled;
    this.problems.push(...set.problems);
    this.pending = this.steps(set);
    if (!lazy) this.finishSync();
  }

  private pending: Generator<void> | null;

  private finishSync(): void {
    if (!this.pending) return;
    for (;;) if (this.pending.next().done) break;
    this.pending = null;
  }

  /** Finish a lazy build, yielding to the event loop every `sliceMs`. */
  async finish(sliceMs = 10): Promise<this> {
    while (this.pending) {
      const t = performance.now();
      while (performance.now() - t < sliceMs) {
        if (this.pending.next().done) {
          this.pending = null;
          break;
        }
      }
      if (this.pending) await yieldToLoop();
    }
    return this;
  }

  private *steps(set: RuleSet): Generator<void> {
    const self = this;
    function* add(files: RuleFile[], positive: boolean, out: FileRange[]): Generator<void> {
      for (const f of files) {
        const start = self.rules.length;
        for (const r of f.rules) {
          const c = compileRule(r, self.rules.length, positive);
          if ("rule" in c) self.rules.push(c.rule);
          else self.problems.push(c.problem);
          yield;
        }
        out.push({ name: f.name, start, end: self.rules.length });
      }
    }
    const s0 = this.rules.length;
    yield* add(set.cracking, true, this.cracking);
    this.crackingAll = { name: "cracking.d", start: s0, end: this.rules.length };
    yield* add(set.crackingIgnore, false, this.crackingIgnore);
    const v0 = this.rules.length;
    yield* add(set.violations, true, this.violations);
    this.violationsAll = { name: "violations.d", start: v0, end: this.rules.length };
    yield* add(set.violationsIgnore, false, this.violationsIgnore);
    const i0 = this.rules.length;
    yield* add(set.ignore, false, []);
    this.ignore = { name: "ignore", start: i0, end: this.rules.length };
    const index = new RuleIndex(this.rules, true);
    yield* index.steps();
    this.index = index;
  }

  /** Rules not on the native engine (risky for backtracking, or back-reference fallback). */
  riskyRules(): RiskyRule[] {
    const out: RiskyRule[] = [];
    for (const r of this.rules) if (r.kind !== "native") out.push({ where: `${r.file}:${r.line}`, kind: r.kind, note: r.note });
    return out;
  }

  indexStats(): { rules: number; indexed: number; generic: number } {
    return { rules: this.rules.length, ...this.index.stats() };
  }

  /**
   * Classify one line (a byte string; see toByteString). Never throws.
   * `explain` fills Verdict.why (FILE:LINE of the deciding rules); without it
   * `why` is empty, which keeps the common path allocation-free.
   */
  classify(rawLine: string, explain = false): Verdict {
    const line = stripTrailing(toByteString(rawLine));
    let matched: number[];
    try {
      matched = this.index.matchAll(line);
    } catch {
      matched = []; // a rule engine failure must not lose the line: report it
    }
    if (!explain) {
      // fast path: no cracking/violations rule matched (ids below ignore.start
      // belong to cracking.d, cracking.ignore.d, violations.d, violations.ignore.d)
      let positive = false;
      for (let i = 0; i < matched.length; i++) {
        const id = matched[i];
        if ((id >= this.crackingAll.start && id < this.crackingAll.end) || (id >= this.violationsAll.start && id < this.violationsAll.end)) {
          positive = true;
          break;
        }
      }
      if (!positive) {
        const ignored = matched.length > 0 && matched[matched.length - 1] >= this.ignore.start;
        return { line, sections: ignored ? NO_SECTIONS : SYSTEM_ONLY, why: NO_WHY };
      }
      const v = this.decide(line, matched);
      v.why = NO_WHY;
      return v;
    }
    return this.decide(line, matched);
  }

  /** Prepended to FILE:LINE in explanations (e.g. the rule home path). */
  displayPrefix = "";

  private where(id: number): string {
    const r = this.rules[id];
    return `${this.displayPrefix}${r.file}:${r.line}`;
  }

  private decide(line: string, m: number[]): Verdict {
    const firstIn = (r: FileRange | undefined): number => {
      if (!r) return -1;
      for (const id of m) if (id >= r.start && id < r.end) return id;
      return -1;
    };
    const firstInAny = (rs: FileRange[], pred: (f: FileRange) => boolean = () => true): number => {
      let best = -1;
      for (const r of rs) {
        if (!pred(r)) continue;
        const id = firstIn(r);
        if (id >= 0 && (best < 0 || id < best)) best = id;
      }
      return best;
    };
    const sections: string[] = [];
    const why: string[] = [];
    if (m.length === 0) {
      return { line, sections: [SYSTEM], why: ["reported: no rule matched"] };
    }
    const byName = (rs: FileRange[], name: string) => rs.find((r) => r.name === name);
    const notLogchec = (f: FileRange) => !f.name.startsWith("logchec");
    const section = (
      raise: FileRange[],
      ignore: FileRange[] | null,
      higher: FileRange | null,
      title: string,
      verb: string,
    ): void => {
      for (const f of raise) {
        const hit = firstIn(f);
        if (hit < 0) continue;
        let cancel = -1;
        if (ignore) {
          cancel = firstIn(byName(ignore, f.name));
          if (cancel < 0) cancel = firstIn(byName(ignore, "logcheck-" + f.name));
          if (cancel < 0 && f.name === "logcheck") cancel = firstInAny(ignore);
        }
        if (cancel < 0 && f.name === "logcheck") cancel = firstInAny(raise, notLogchec);
        if (cancel < 0 && higher) cancel = firstIn(higher);
        if (cancel < 0 && ignore) cancel = firstInAny(ignore, (r) => r.name === "local" || r.name.startsWith("local-"));
        if (cancel >= 0) {
          why.push(`${verb} by ${this.where(hit)}, cancelled by ${this.where(cancel)}`);
          continue;
        }
        const t = f.name === "logcheck" ? title : `${title} for ${f.name}`;
        sections.push(t);
        why.push(`${t}: ${verb} by ${this.where(hit)}`);
      }
    };
    section(this.cracking, this.crackingIgnoreOn ? this.crackingIgnore : null, null, ALERTS, "alerted");
    section(this.violations, this.violationsIgnore, this.crackingAll, EVENTS, "violation");
    const ign = firstIn(this.ignore);
    const crack = firstIn(this.crackingAll);
    const viol = firstIn(this.violationsAll);
    if (ign < 0 && crack < 0 && viol < 0) {
      sections.push(SYSTEM);
      why.push("System Events: no ignore rule matched");
    } else if (ign >= 0) {
      why.push(`ignored by ${this.where(ign)}`);
    } else {
      why.push(`not a System Event: matched ${this.where(crack >= 0 ? crack : viol)}`);
    }
    return { line, sections, why };
  }

  /** All section titles this rule set can produce, in logcheck's report order. */
  sectionTitles(): string[] {
    return [
      ...this.cracking.map((f) => (f.name === "logcheck" ? ALERTS : `${ALERTS} for ${f.name}`)),
      ...this.violations.map((f) => (f.name === "logcheck" ? EVENTS : `${EVENTS} for ${f.name}`)),
      SYSTEM,
    ];
  }

  /** A report collector for this rule set. */
  newReport(): ReportBuilder {
    return new ReportBuilder(this.sectionTitles());
  }
}

/** Build a classifier from a rule tree (in-memory map or read from a dir). */
export function classifierFromTree(tree: RuleTree, opts: LoadOptions): Classifier {
  return new Classifier(selectRules(tree, opts.level, opts.crackingIgnore ?? false));
}

/**
 * For the daemon: build a classifier from a rule home (or, when `home` is
 * null or does not exist, from `fallback`) without blocking the event loop
 * for more than about `sliceMs` at a time. `fromHome` tells which was used.
 * Reload = call it again and swap the result in when it resolves; the old
 * classifier keeps working meanwhile. Never throws for bad rules (they are
 * in `problems`).
 */
export async function loadClassifier(
  home: string | null,
  fallback: RuleTree,
  opts: LoadOptions & { sliceMs?: number },
): Promise<{ classifier: Classifier; fromHome: boolean }> {
  const problems: RuleProblem[] = [];
  const tree = home === null ? null : readRuleHome(home, problems);
  const set = selectRules(tree ?? fallback, opts.level, opts.crackingIgnore ?? false);
  if (tree) set.problems.push(...problems);
  const c = new Classifier(set, true);
  await c.finish(opts.sliceMs ?? 10);
  return { classifier: c, fromHome: tree !== null };
}

/**
 * Load a rule home directory; null when it does not exist (callers then use
 * the embedded tree). Unreadable files are reported as problems.
 */
export function classifierFromHome(home: string, opts: LoadOptions): Classifier | null {
  const problems: RuleProblem[] = [];
  const tree = readRuleHome(home, problems);
  if (tree === null) return null;
  const c = classifierFromTree(tree, opts);
  c.problems.unshift(...problems);
  return c;
}

// ---------------------------------------------------------------- report

/** logcheck's section heading: the title and "=-=-..." of the same length. */
export function sectionHeader(title: string): string {
  let u = "";
  for (let i = 0; i < title.length; i++) u += i % 2 === 0 ? "=" : "-";
  return `${title}\n${u}\n`;
}

/**
 * Collects verdicts and prints logcheck's report: sections in logcheck's
 * order (alerts per cracking file, events per violations file, system
 * events), lines in input order, each section followed by a blank line.
 */
export class ReportBuilder {
  private sections = new Map<string, string[]>();
  constructor(private readonly order: string[]) {}

  add(v: Verdict): void {
    for (const s of v.sections) {
      let l = this.sections.get(s);
      if (!l) { l = []; this.sections.set(s, l); }
      l.push(v.line);
    }
  }

  isEmpty(): boolean {
    return this.sections.size === 0;
  }

  /** Section title -> lines, in report order. */
  entries(): Array<[string, string[]]> {
    const out: Array<[string, string[]]> = [];
    for (const t of this.order) {
      const l = this.sections.get(t);
      if (l) out.push([t, l]);
    }
    return out;
  }

  format(): string {
    let out = "";
    for (const [t, lines] of this.entries()) out += sectionHeader(t) + lines.join("\n") + "\n\n";
    return out;
  }
}

