// logcheck's report text (what --test-rules prints and the conformance tests
// compare with logcheck's own grep pipeline): sections in logcheck's order
// (alerts per cracking.d file, events per violations.d file, system events),
// lines in input order, each section under its "=-=-" heading and followed by
// a blank line.

import { sectionUnderline } from "../util/heading.ts";
import { matchedLine, type Verdict } from "./layers.ts";

/** logcheck's section heading: the title and "=-=-..." of the same length. */
export function sectionHeader(title: string): string {
  return `${title}\n${sectionUnderline(title)}\n`;
}

/** Collects classified lines and prints logcheck's report. */
export class ReportBuilder {
  private sections = new Map<string, string[]>();
  /** order: every section title the rule set can produce (Classifier.sectionTitles()) */
  constructor(private readonly order: string[]) {}

  /** Add a line as read (it is listed as matched: see matchedLine) under the sections of its verdict. */
  add(line: string, verdict: Verdict): void {
    if (verdict.length === 0) return;
    const shown = matchedLine(line);
    for (const p of verdict) {
      let l = this.sections.get(p.section);
      if (!l) { l = []; this.sections.set(p.section, l); }
      l.push(shown);
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
