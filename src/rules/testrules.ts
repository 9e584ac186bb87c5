// `integrityd --test-rules [FILE|-] [--rules DIR] [--level L] [--explain [--list-risky]]`:
// classify log lines with a rule tree and print the report logcheck would
// print. The CLI wiring lives in src/cli; this is the whole behaviour: the
// rules come from loadRuleSet (load.ts), the report text from report.ts.
// --explain prints one summary line about the rule set; the rules on a slower
// engine (risky for backtracking, back-references) are listed one by one only
// with --list-risky, or next to a line one of them decided.

import { escapeLatin1 } from "../util/escape.ts";
import { readFileSync } from "node:fs";
import type { Level } from "../config/config.ts";
import type { RuleTree } from "./home.ts";
import { loadRuleSet } from "./load.ts";
import { ReportBuilder } from "./report.ts";

export interface TestRulesOptions {
  input: string; // path or "-" for stdin
  rulesHome: string | null; // null = embedded default tree
  embedded: RuleTree; // the default tree as relPath -> content
  level: Level;
  crackingIgnore: boolean;
  explain: boolean;
  /** with explain: list every rule on a slower engine up front */
  listRisky?: boolean;
  out: (s: string) => void;
  err: (s: string) => void;
}

export const EXIT_NOTHING = 0;
export const EXIT_REPORTED = 1;
export const EXIT_NOINPUT = 74; // EX_IOERR

async function readInput(input: string): Promise<Buffer> {
  if (input === "-") {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
    return Buffer.concat(chunks);
  }
  return readFileSync(input);
}

/** Split bytes into lines (latin1 strings): "\n" ends a line; a last line without newline counts. */
export function splitLines(buf: Buffer): string[] {
  const text = buf.toString("latin1");
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/**
 * Printable form of a line (a latin1 byte string) for --explain comments, as
 * every report shows hostile bytes (util/escape.ts), returned as a latin1
 * string of its UTF-8 bytes: the output is written byte for byte.
 */
function visible(s: string): string {
  return Buffer.from(escapeLatin1(s), "utf8").toString("latin1");
}

export async function runTestRules(opts: TestRulesOptions): Promise<number> {
  const { out, err } = opts;
  let data: Buffer;
  try {
    data = await readInput(opts.input);
  } catch (e) {
    err(`integrityd: cannot read ${opts.input === "-" ? "standard input" : opts.input}: ${(e as Error).message}`);
    return EXIT_NOINPUT;
  }

  const source = opts.rulesHome !== null ? { home: opts.rulesHome } : { tree: opts.embedded };
  const r = await loadRuleSet(source, opts.level, { crackingIgnore: opts.crackingIgnore, fallback: opts.embedded });
  if (r.homeMissing) err(`integrityd: rules home ${opts.rulesHome} does not exist; using the embedded default rules`);
  if (r.homeError !== null) err(`integrityd: cannot load rules: ${r.homeError}; using the embedded default rules`);
  if (r.layered) err(`integrityd: rules home ${opts.rulesHome} has no cracking.d or violations.d rules; the embedded default rules are layered under it`);
  for (const p of r.problems) err(p);
  const c = r.classifier;

  if (opts.explain) {
    const where = r.from === "home" ? `${opts.rulesHome}${r.layered ? " with the embedded default rules layered under it" : ""}` : opts.rulesHome !== null && opts.rulesHome !== "builtin" ? `the embedded default rules (${opts.rulesHome} does not exist)` : "the embedded default rules";
    out(`# rules: ${where}, level ${opts.level}${opts.crackingIgnore ? ", cracking.ignore.d on" : ""}\n`);
    out(`# rules: ${r.summary}\n`);
    if (opts.listRisky) for (const line of r.risky) out(`# rule ${line}\n`);
  }
  // "PREFIX FILE:LINE" -> its risky line, to name a risky rule that decided a line
  const riskyAt = new Map<string, string>();
  if (opts.explain) for (const line of r.risky) riskyAt.set(line.slice(0, line.indexOf(": ")), line);

  const report = new ReportBuilder(c.sectionTitles());
  const lines = splitLines(data);
  for (let i = 0; i < lines.length; i++) {
    if (opts.explain) {
      const x = c.explain(lines[i]);
      report.add(lines[i], x.verdict);
      out(`# line ${i + 1}: ${visible(x.line)}\n#   ${x.why.join("; ")}\n`);
      if (riskyAt.size > 0 && !opts.listRisky) {
        for (const w of x.why) {
          for (const m of w.matchAll(/(?:by|matched) (.+?:\d+)(?=,|$)/g)) {
            const risky = riskyAt.get(m[1]);
            if (risky !== undefined) out(`#   rule ${risky}\n`);
          }
        }
      }
    } else {
      report.add(lines[i], c.classify(lines[i]));
    }
  }
  if (opts.explain) out("\n");
  const text = report.format();
  if (text.length > 0) out(text);
  return report.isEmpty() ? EXIT_NOTHING : EXIT_REPORTED;
}
