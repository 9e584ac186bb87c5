// logcheck's layering of a rule set - cracking, violations, ignore - one line
// at a time: Classifier compiles a selected rule set (home.ts) and says which
// report sections a line goes to, each with its kind (alert, violation,
// system). Loading a rule set is load.ts; the report text is report.ts.
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

import type { Level } from "../config/config.ts";
import { type CompiledRule, compileRule } from "./compile.ts";
import { RuleIndex } from "./dispatch.ts";
import type { RuleFile, RuleProblem, RuleSet } from "./home.ts";

export const ALERTS = "Security Alerts";
export const EVENTS = "Security Events";
export const SYSTEM = "System Events";

/** What a report section holds: cracking.d alerts, violations.d events, or unmatched lines. */
export type SectionKind = "alert" | "violation" | "system";

/** One report section a line goes to. */
export interface Placement {
  kind: SectionKind;
  /** report section title, e.g. "Security Alerts for sshd", "Security Events", "System Events" */
  section: string;
}

/**
 * Where a line goes: nowhere (ignored), or one or more sections in report
 * order (as in logcheck, a line may be in several). Shared and frozen for the
 * common answers: never modify one.
 */
export type Verdict = Placement[];

/** A verdict with its reasons, for --test-rules --explain. */
export interface Explanation {
  line: string; // the line as matched (see matchedLine)
  verdict: Verdict;
  /** FILE:LINE of the deciding rules, in words */
  why: string[];
}

const SYSTEM_PLACEMENT: Placement = Object.freeze({ kind: "system", section: SYSTEM });
const IGNORED: Verdict = Object.freeze([]) as unknown as Verdict;
const SYSTEM_ONLY: Verdict = Object.freeze([SYSTEM_PLACEMENT]) as unknown as Verdict;

export interface FileRange {
  name: string;
  start: number; // first rule id
  end: number; // one past the last rule id
  /** the section a match of this cracking.d/violations.d file raises (null for ignore files) */
  placement: Placement | null;
}

export interface RiskyRule {
  where: string; // FILE:LINE
  kind: "linear" | "backref";
  note: string;
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

/** The line as the rules see it (and as logcheck's report prints it): bytes, trailing blanks stripped. */
export function matchedLine(line: string): string {
  return stripTrailing(toByteString(line));
}

function sectionTitle(title: string, file: string): string {
  return file === "logcheck" ? title : `${title} for ${file}`;
}

/** See Classifier.parts(). */
export interface ClassifierParts {
  level: Level;
  crackingIgnoreOn: boolean;
  rules: CompiledRule[];
  problems: RuleProblem[];
  index: RuleIndex;
  ranges: { cracking: FileRange[]; crackingIgnore: FileRange[]; violations: FileRange[]; violationsIgnore: FileRange[]; ignore: FileRange; crackingAll: FileRange; violationsAll: FileRange };
}

const EMPTY_RANGE: FileRange = { name: "", start: 0, end: 0, placement: null };

export class Classifier {
  readonly rules: CompiledRule[] = [];
  readonly problems: RuleProblem[] = [];
  private index: RuleIndex = new RuleIndex([]);
  private cracking: FileRange[] = [];
  private crackingIgnore: FileRange[] = [];
  private violations: FileRange[] = [];
  private violationsIgnore: FileRange[] = [];
  private ignore: FileRange = EMPTY_RANGE;
  private crackingAll: FileRange = EMPTY_RANGE;
  private violationsAll: FileRange = EMPTY_RANGE;
  readonly level: Level;
  private readonly crackingIgnoreOn: boolean;
  private pending: Generator<void> | null;

  /** Prepended to FILE:LINE in explanations (e.g. "embedded:" or the rule home path and "/"). */
  displayPrefix = "";

  /**
   * Compile a rule set. This takes about 1 s for Debian's server level;
   * with `lazy`, nothing is compiled yet: call step() until it returns true
   * (load.ts does that in time slices, yielding to the event loop in between).
   */
  constructor(set: RuleSet, lazy = false) {
    this.level = set.level;
    this.crackingIgnoreOn = set.crackingIgnoreEnabled;
    this.problems.push(...set.problems);
    this.pending = this.steps(set);
    if (!lazy) while (!this.step()) { /* compile everything now */ }
  }

  /** Compile one more rule (or index step); true when the build is complete. Use the classifier only then. */
  step(): boolean {
    if (this.pending === null) return true;
    if (!this.pending.next().done) return false;
    this.pending = null;
    return true;
  }

  private *steps(set: RuleSet): Generator<void> {
    const self = this;
    function* add(files: RuleFile[], positive: boolean, out: FileRange[], title: string, kind: SectionKind | null): Generator<void> {
      for (const f of files) {
        const start = self.rules.length;
        for (const r of f.rules) {
          const c = compileRule(r, self.rules.length, positive);
          if ("rule" in c) self.rules.push(c.rule);
          else self.problems.push(c.problem);
          yield;
        }
        const placement = kind === null ? null : Object.freeze({ kind, section: sectionTitle(title, f.name) });
        out.push({ name: f.name, start, end: self.rules.length, placement });
      }
    }
    const s0 = this.rules.length;
    yield* add(set.cracking, true, this.cracking, ALERTS, "alert");
    this.crackingAll = { name: "cracking.d", start: s0, end: this.rules.length, placement: null };
    yield* add(set.crackingIgnore, false, this.crackingIgnore, "", null);
    const v0 = this.rules.length;
    yield* add(set.violations, true, this.violations, EVENTS, "violation");
    this.violationsAll = { name: "violations.d", start: v0, end: this.rules.length, placement: null };
    yield* add(set.violationsIgnore, false, this.violationsIgnore, "", null);
    const i0 = this.rules.length;
    yield* add(set.ignore, false, [], "", null);
    this.ignore = { name: "ignore", start: i0, end: this.rules.length, placement: null };
    const index = new RuleIndex(this.rules, true);
    yield* index.steps();
    this.index = index;
    // the syntax trees are needed no more: ~150,000 small objects for Debian's server level
    for (const r of this.rules) r.ast = null;
  }

  /** What a built classifier is made of (the compiled-rules cache stores it; snapshot.ts). */
  parts(): ClassifierParts {
    if (this.pending !== null) throw new Error("Classifier.parts: the build is not complete");
    const { level, crackingIgnoreOn, rules, problems, index, cracking, crackingIgnore, violations, violationsIgnore, ignore, crackingAll, violationsAll } = this;
    return { level, crackingIgnoreOn, rules, problems, index, ranges: { cracking, crackingIgnore, violations, violationsIgnore, ignore, crackingAll, violationsAll } };
  }

  /** A classifier from its parts (snapshot.ts), ready to use: nothing is compiled. */
  static restore(p: ClassifierParts): Classifier {
    const c = new Classifier({ cracking: [], crackingIgnore: [], violations: [], violationsIgnore: [], ignore: [], level: p.level, crackingIgnoreEnabled: p.crackingIgnoreOn, problems: p.problems });
    c.rules.push(...p.rules);
    c.index = p.index;
    Object.assign(c, p.ranges);
    return c;
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

  private match(line: string): number[] {
    try {
      return this.index.matchAll(line);
    } catch {
      return []; // a rule engine failure must not lose the line: report it
    }
  }

  /** Where a line goes (a byte string; see toByteString). Never throws. */
  classify(rawLine: string): Verdict {
    const line = matchedLine(rawLine);
    const matched = this.match(line);
    // fast path: no cracking/violations rule matched (ids below ignore.start
    // belong to cracking.d, cracking.ignore.d, violations.d, violations.ignore.d)
    for (let i = 0; i < matched.length; i++) {
      const id = matched[i];
      if ((id >= this.crackingAll.start && id < this.crackingAll.end) || (id >= this.violationsAll.start && id < this.violationsAll.end)) {
        return this.decide(matched, null);
      }
    }
    const ignored = matched.length > 0 && matched[matched.length - 1] >= this.ignore.start;
    return ignored ? IGNORED : SYSTEM_ONLY;
  }

  /** classify() with the deciding rules in words (slower; for --test-rules --explain). */
  explain(rawLine: string): Explanation {
    const line = matchedLine(rawLine);
    const matched = this.match(line);
    if (matched.length === 0) return { line, verdict: SYSTEM_ONLY, why: ["reported: no rule matched"] };
    const why: string[] = [];
    return { line, verdict: this.decide(matched, why), why };
  }

  private where(id: number): string {
    const r = this.rules[id];
    return `${this.displayPrefix}${r.file}:${r.line}`;
  }

  /** The sections for the matched rule ids `m` (ascending); reasons go to `why` when given. */
  private decide(m: number[], why: string[] | null): Verdict {
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
    const verdict: Verdict = [];
    const byName = (rs: FileRange[], name: string) => rs.find((r) => r.name === name);
    const notLogchec = (f: FileRange) => !f.name.startsWith("logchec");
    const section = (raise: FileRange[], ignore: FileRange[] | null, higher: FileRange | null, verb: string): void => {
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
          why?.push(`${verb} by ${this.where(hit)}, cancelled by ${this.where(cancel)}`);
          continue;
        }
        const p = f.placement!;
        verdict.push(p);
        why?.push(`${p.section}: ${verb} by ${this.where(hit)}`);
      }
    };
    section(this.cracking, this.crackingIgnoreOn ? this.crackingIgnore : null, null, "alerted");
    section(this.violations, this.violationsIgnore, this.crackingAll, "violation");
    const ign = firstIn(this.ignore);
    const crack = firstIn(this.crackingAll);
    const viol = firstIn(this.violationsAll);
    if (ign < 0 && crack < 0 && viol < 0) {
      verdict.push(SYSTEM_PLACEMENT);
      why?.push("System Events: no ignore rule matched");
    } else if (ign >= 0) {
      why?.push(`ignored by ${this.where(ign)}`);
    } else {
      why?.push(`not a System Event: matched ${this.where(crack >= 0 ? crack : viol)}`);
    }
    return verdict;
  }

  /** All section titles this rule set can produce, in logcheck's report order. */
  sectionTitles(): string[] {
    return [...this.cracking, ...this.violations].map((f) => f.placement!.section).concat(SYSTEM);
  }
}
