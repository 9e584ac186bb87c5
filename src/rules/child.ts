// Compiling a rule set in a child process (util/selfchild.ts), so that the
// daemon never holds a compile's memory. A cold compile of Debian's server
// level makes ~100 MB of garbage; the collector frees it, but the allocator
// keeps the pages, and a daemon that compiled once (first start, every
// rule-file change) rested at ~110 MiB instead of ~70. The child reads the
// selected rule set as JSON on stdin and writes one sealed cache entry
// (cache.ts) on stdout; the parent stores the entry and decodes it as it
// decodes any cached entry (load.ts): one way to turn bytes into a classifier.
//
// Protocol (stdin): JSON {engine: ENGINE_ID, set: RuleSet}.
// (stdout): "integrityd-rules ENGINE_ID SUM\n" then the entry's bytes; exit 0.
// The parent checks the engine and the checksum (openEntry); anything else -
// a crash, a timeout (CHILD_LIMIT_MS), another build's header - is an Error
// whose message says why, and load.ts compiles in the process instead.
// Under `bun test` childCompiler() is null and loads compile in the process.
import { ENGINE_ID, type SealedEntry, sealEntry } from "./cache.ts";
import type { RuleSet } from "./home.ts";
import { Classifier } from "./layers.ts";
import { encodeSnapshot } from "./snapshot.ts";
import { childMain, runChild, selfCommand } from "../util/selfchild.ts";

/** The argument that makes the program a compile child (main.ts). Not an option: no user types it. */
export const COMPILE_CHILD_ARG = "--internal-compile-rules";
/** A compile that takes longer is abandoned (Debian's workstation level takes ~3 s on a busy 2-core machine). */
export const CHILD_LIMIT_MS = 120_000;
const HEADER = "integrityd-rules";
/** Largest entry accepted from a child (Debian's server level: ~0.4 MB). */
const MAX_ENTRY = 256 << 20;

export type ChildCompiler = (set: RuleSet) => Promise<SealedEntry>;

/** Split a child's output into its entry; throws with the reason. Pure. */
export function parseChildOutput(out: Uint8Array, engine = ENGINE_ID): SealedEntry {
  const nl = out.indexOf(10);
  if (nl < 0 || nl > 300) throw new Error("no header in its output");
  const [name, eng, sum, ...rest] = new TextDecoder().decode(out.subarray(0, nl)).split(" ");
  if (name !== HEADER || rest.length !== 0 || sum === undefined || !/^[0-9a-f]{64}$/.test(sum)) throw new Error("a malformed header");
  if (eng !== engine) throw new Error("another build's rules engine");
  return { sum, value: out.subarray(nl + 1) };
}

/** The compiler that runs `command` (default: selfCommand()), or null when there is none. */
export function childCompiler(command = selfCommand()): ChildCompiler | null {
  if (command === null) return null;
  return async (set) => parseChildOutput(await runChild(command, COMPILE_CHILD_ARG, JSON.stringify({ engine: ENGINE_ID, set }), CHILD_LIMIT_MS, MAX_ENTRY));
}

/** The child's side: compile the set on stdin, write the entry to stdout. Returns the exit code. */
export function runCompileChild(): Promise<number> {
  return childMain(async (job) => {
    const input = job as { engine: string; set: RuleSet };
    if (input.engine !== ENGINE_ID) throw new Error("another build's rules engine");
    const c = new Classifier(input.set, true);
    while (!c.step()) {
      // one pass to the end: this process does nothing else
    }
    const e = sealEntry(encodeSnapshot(c));
    return Buffer.concat([Buffer.from(`${HEADER} ${ENGINE_ID} ${e.sum}\n`), e.value]);
  });
}
