// `integrityd --test-rules [FILE|-] [--rules DIR] [--level L] [--explain [--list-risky]]`:
// classify log lines with a rule tree and print the report logcheck would
// print. The CLI wiring lives in src/cli; this is the whole behaviour: the
// rules come from loadRuleSet (load.ts), the report text from spool.ts (the
// text of report.ts). Input and report are streams: the input is read in
// chunks and classified line by line, the report's sections spill to
// temporary files (spool.ts), so memory does not grow with the input.
// --explain prints one summary line about the rule set; the rules on a slower
// engine (risky for backtracking, back-references) are listed one by one only
// with --list-risky, or next to a line one of them decided.

import { escapeLatin1 } from "../util/escape.ts";
import { closeSync, openSync, readSync } from "node:fs";
import type { Level } from "../config/config.ts";
import type { RuleTree } from "./home.ts";
import { openTrustedCache } from "./cache.ts";
import { collectGarbage, loadRuleSet } from "./load.ts";
import { SpooledReport } from "./spool.ts";

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
  /** the config's database: the compiled-rules cache is there when it can be trusted (cache.ts); null = no cache */
  database?: string | null;
}

export const EXIT_NOTHING = 0;
export const EXIT_REPORTED = 1;
export const EXIT_NOINPUT = 74; // EX_IOERR

const READ_CHUNK = 256 * 1024;
/** Input bytes between two garbage collections (see classifyStream). */
const GC_EVERY_BYTES = 4 * 1024 * 1024;

/**
 * Cut byte chunks into lines (latin1 strings): "\n" ends a line; a last line
 * without newline counts. Holds only the unfinished line between chunks.
 */
export class LineSplitter {
  private carry = "";
  /** The lines a chunk completes. */
  push(chunk: Uint8Array): string[] {
    const text = this.carry + Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("latin1");
    const lines = text.split("\n");
    this.carry = lines.pop()!;
    return lines;
  }
  /** The last line, when the input did not end with a newline. */
  end(): string[] {
    const last = this.carry;
    this.carry = "";
    return last === "" ? [] : [last];
  }
}

/** Split bytes into lines (latin1 strings): "\n" ends a line; a last line without newline counts. */
export function splitLines(buf: Buffer): string[] {
  const s = new LineSplitter();
  return [...s.push(buf), ...s.end()];
}

/** The input in chunks of bytes: a file read READ_CHUNK at a time, or standard input as it comes. */
async function* inputChunks(input: string, fd: number | null): AsyncGenerator<Uint8Array> {
  if (fd === null) {
    for await (const c of process.stdin) yield Buffer.isBuffer(c) ? c : Buffer.from(c);
    return;
  }
  const buf = Buffer.alloc(READ_CHUNK);
  for (;;) {
    const n = readSync(fd, buf, 0, READ_CHUNK, null);
    if (n <= 0) return;
    yield buf.subarray(0, n);
  }
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
  const { err } = opts;
  const what = opts.input === "-" ? "standard input" : opts.input;
  let fd: number | null = null;
  try {
    if (opts.input !== "-") fd = openSync(opts.input, "r");
  } catch (e) {
    err(`integrityd: cannot read ${what}: ${(e as Error).message}`);
    return EXIT_NOINPUT;
  }
  const cache = opts.database ? openTrustedCache(opts.database) : { why: "no config file" };
  try {
    return await classifyStream(opts, fd, cache);
  } finally {
    if (fd !== null) closeSync(fd);
    if ("db" in cache) cache.db.close();
  }
}

async function classifyStream(opts: TestRulesOptions, fd: number | null, cache: ReturnType<typeof openTrustedCache>): Promise<number> {
  const { out, err } = opts;
  const source = opts.rulesHome !== null ? { home: opts.rulesHome } : { tree: opts.embedded };
  const r = await loadRuleSet(source, opts.level, { crackingIgnore: opts.crackingIgnore, fallback: opts.embedded, cache: "store" in cache ? cache.store : null });
  if (r.cacheNotice !== null) err(`integrityd: ${r.cacheNotice}`);
  if (r.homeMissing) err(`integrityd: rules home ${opts.rulesHome} does not exist; using the embedded default rules`);
  if (r.homeError !== null) err(`integrityd: cannot load rules: ${r.homeError}; using the embedded default rules`);
  if (r.layered) err(`integrityd: rules home ${opts.rulesHome} has no cracking.d or violations.d rules; the embedded default rules are layered under it`);
  for (const p of r.problems) err(p);
  const c = r.classifier;

  // "PREFIX FILE:LINE" -> its risky line, to name a risky rule that decided a line
  const riskyAt = new Map<string, string>();
  if (opts.explain) {
    const where = r.from === "home" ? `${opts.rulesHome}${r.layered ? " with the embedded default rules layered under it" : ""}` : opts.rulesHome !== null && opts.rulesHome !== "builtin" ? `the embedded default rules (${opts.rulesHome} does not exist)` : "the embedded default rules";
    out(`# rules: ${where}, level ${opts.level}${opts.crackingIgnore ? ", cracking.ignore.d on" : ""}\n`);
    out(`# rules: ${r.summary}\n`);
    if ("why" in cache) out(`# rules: no compiled-rules cache (${cache.why})\n`);
    if (opts.listRisky) for (const line of r.risky) out(`# rule ${line}\n`);
    else for (const line of r.risky) riskyAt.set(line.slice(0, line.indexOf(": ")), line);
  }

  const report = new SpooledReport(c.sectionTitles());
  let n = 0;
  const take = (lines: string[]): void => {
    for (const line of lines) {
      n++;
      if (!opts.explain) {
        report.add(line, c.classify(line));
        continue;
      }
      const x = c.explain(line);
      report.add(line, x.verdict);
      out(`# line ${n}: ${visible(x.line)}\n#   ${x.why.join("; ")}\n`);
      if (riskyAt.size === 0) continue;
      for (const w of x.why) {
        for (const m of w.matchAll(/(?:by|matched) (.+?:\d+)(?=,|$)/g)) {
          const risky = riskyAt.get(m[1]);
          if (risky !== undefined) out(`#   rule ${risky}\n`);
        }
      }
    }
  };
  try {
    const split = new LineSplitter();
    try {
      let sinceGc = 0;
      for await (const chunk of inputChunks(opts.input, fd)) {
        take(split.push(chunk));
        // the garbage of classified lines is collected as it goes: left to
        // its own pace the collector let 1M lines grow the process by 200 MB
        sinceGc += chunk.length;
        if (sinceGc >= GC_EVERY_BYTES) { sinceGc = 0; collectGarbage(); }
      }
    } catch (e) {
      err(`integrityd: cannot read ${opts.input === "-" ? "standard input" : opts.input}: ${(e as Error).message}`);
      return EXIT_NOINPUT;
    }
    take(split.end());
    if (opts.explain) out("\n");
    const empty = report.isEmpty();
    report.finish(out);
    return empty ? EXIT_NOTHING : EXIT_REPORTED;
  } finally {
    report.close();
  }
}
