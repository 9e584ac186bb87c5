// `integrityd --test-rules [FILE|-] [--rules DIR] [--level L] [--explain]`:
// classify log lines with a rule tree and print the report logcheck would
// print. The CLI wiring lives in src/cli; this is the whole behaviour.

import { readFileSync } from "node:fs";
import { type Classifier, classifierFromHome, classifierFromTree } from "./classify.ts";
import type { Level, RuleTree } from "./rules.ts";

export interface TestRulesOptions {
  input: string; // path or "-" for stdin
  rulesHome: string | null; // null = embedded default tree
  embedded: RuleTree; // the default tree as relPath -> content
  level: Level;
  crackingIgnore: boolean;
  explain: boolean;
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

/** Printable form of a byte string for --explain lines (control bytes escaped). */
function visible(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c < 32 || c === 127 ? "\\x" + c.toString(16).padStart(2, "0") : s[i];
  }
  return out;
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

  const loadOpts = { level: opts.level, crackingIgnore: opts.crackingIgnore };
  let c: Classifier | null = null;
  let origin = "embedded";
  try {
    if (opts.rulesHome !== null) {
      c = classifierFromHome(opts.rulesHome, loadOpts);
      if (c === null) err(`integrityd: rules home ${opts.rulesHome} does not exist; using the embedded default rules`);
      else origin = opts.rulesHome;
    }
    if (c === null) c = classifierFromTree(opts.embedded, loadOpts);
  } catch (e) {
    err(`integrityd: cannot load rules: ${(e as Error).message}; using the embedded default rules`);
    c = classifierFromTree(opts.embedded, loadOpts);
  }
  const prefix = origin === "embedded" ? "embedded:" : origin.replace(/\/+$/, "") + "/";
  for (const p of c.problems) err(`${prefix}${p.file}:${p.line}: ${p.message}`);
  c.displayPrefix = prefix;

  if (opts.explain) {
    const risky = c.riskyRules();
    if (risky.length === 0) out("# rules: all on the native engine\n");
    for (const r of risky) out(`# rule ${prefix}${r.where}: ${r.kind}: ${r.note}\n`);
  }

  const report = c.newReport();
  const lines = splitLines(data);
  for (let i = 0; i < lines.length; i++) {
    const v = c.classify(lines[i], opts.explain);
    report.add(v);
    if (opts.explain) {
      out(`# line ${i + 1}: ${visible(v.line)}\n#   ${v.why.join("; ")}\n`);
    }
  }
  if (opts.explain) out("\n");
  const text = report.format();
  if (text.length > 0) out(text);
  return report.isEmpty() ? EXIT_NOTHING : EXIT_REPORTED;
}
