// Compiling a rule set in a child process, so that the daemon never holds a
// compile's memory. A cold compile of Debian's server level makes ~100 MB of
// garbage; the collector frees it, but the allocator keeps the pages, and a
// daemon that compiled once (first start, every rule-file change) rested at
// ~110 MiB instead of ~70. The child is our own executable (/proc/self/exe:
// the same build even after an upgrade replaced the file, so its snapshot is
// one this process can decode), started with an argument array, no shell and
// an empty environment; it reads the selected rule set as JSON on stdin and
// writes one sealed cache entry (cache.ts) on stdout, then exits and gives
// every page back. The parent stores the entry and decodes it as it decodes
// any cached entry (load.ts): one way to turn bytes into a classifier.
//
// Protocol (stdin): JSON {engine: ENGINE_ID, set: RuleSet}.
// (stdout): "integrityd-rules ENGINE_ID SUM\n" then the entry's bytes; exit 0.
// The parent checks the engine and the checksum (openEntry); anything else -
// a crash, a timeout (CHILD_LIMIT_MS), another build's header - is an Error
// whose message says why, and load.ts compiles in the process instead.
//
// Only a compiled binary (or `bun src/main.ts`) can start itself; under
// `bun test` childCompiler() is null and loads compile in the process.
import { ENGINE_ID, sealEntry } from "./cache.ts";
import type { RuleSet } from "./home.ts";
import { Classifier } from "./layers.ts";
import { encodeSnapshot } from "./snapshot.ts";

/** The argument that makes the program a compile child (main.ts). Not an option: no user types it. */
export const COMPILE_CHILD_ARG = "--internal-compile-rules";
/** A compile that takes longer is abandoned (Debian's workstation level takes ~3 s on a busy 2-core machine). */
export const CHILD_LIMIT_MS = 120_000;
const HEADER = "integrityd-rules";
/** Largest entry accepted from a child (Debian's server level: ~0.4 MB). */
const MAX_ENTRY = 256 << 20;

export type SealedEntry = { sum: string; value: Uint8Array };
export type ChildCompiler = (set: RuleSet) => Promise<SealedEntry>;

/** How this program starts itself, or null when it cannot (under a test runner). */
export function selfCommand(main = Bun.main): string[] | null {
  if (main.startsWith("/$bunfs/")) return ["/proc/self/exe"];
  if (/\/src\/main\.ts$/.test(main)) return ["/proc/self/exe", main];
  return null;
}

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
  return async (set) => {
    const proc = Bun.spawn([...command, COMPILE_CHILD_ARG], {
      stdin: "pipe", stdout: "pipe", stderr: "pipe", env: {},
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), CHILD_LIMIT_MS);
    try {
      proc.stdin.write(JSON.stringify({ engine: ENGINE_ID, set }));
      await proc.stdin.end();
      const [out, err, code] = await Promise.all([readCapped(proc.stdout), new Response(proc.stderr).text(), proc.exited]);
      if (code !== 0) throw new Error(`it exited with ${proc.signalCode ?? code}${err.trim() ? `: ${err.trim().split("\n")[0]!.slice(0, 200)}` : ""}`);
      return parseChildOutput(out);
    } finally {
      clearTimeout(timer);
    }
  };
}

async function readCapped(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const p of s) {
    n += p.length;
    if (n > MAX_ENTRY) throw new Error("its output is too large");
    parts.push(p);
  }
  return Buffer.concat(parts);
}

/** The child's side: compile the set on stdin, write the entry to stdout. Returns the exit code. */
export async function runCompileChild(): Promise<number> {
  try {
    const input = JSON.parse(await new Response(Bun.stdin.stream()).text()) as { engine: string; set: RuleSet };
    if (input.engine !== ENGINE_ID) throw new Error("another build's rules engine");
    const c = new Classifier(input.set, true);
    while (!c.step()) {
      // one pass to the end: this process does nothing else
    }
    const e = sealEntry(encodeSnapshot(c));
    await Bun.write(Bun.stdout, Buffer.concat([Buffer.from(`${HEADER} ${ENGINE_ID} ${e.sum}\n`), e.value]));
    return 0;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
}
