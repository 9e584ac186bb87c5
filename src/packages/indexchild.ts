// The backfill's index of verified .debs (archive.ts verifiedIndex), read in
// a child process (util/selfchild.ts) when the daemon asks for it: reading
// Debian's indexes means gpgv, decompressing ~70 MB and walking ~65,000
// stanzas - ~2.4 s of CPU that would block the event loop, and ~90 MB of
// buffers whose pages the allocator would keep. The child answers only for
// the packages asked (the installed ones), as JSON.
//
// Protocol (stdin): JSON {dirs: AptDirs, want: debKey[]}.
// (stdout): JSON {debs: [[debKey, DebEvidence[]]...], problems: string[]}.
// decodeIndex checks every field; a malformed answer is an Error.
import { type AptDirs, type DebEvidence, verifiedIndex, type VerifiedIndex } from "./archive.ts";
import { scratch } from "./gpg.ts";
import { childInput, runChild, selfCommand } from "../util/selfchild.ts";

/** The argument that makes the program an index child (main.ts). Not an option: no user types it. */
export const INDEX_CHILD_ARG = "--internal-package-index";
const LIMIT_MS = 10 * 60_000;
const MAX_ANSWER = 64 << 20;

/** Reads the verified index for `want` (debKeys). */
export type Indexer = (d: AptDirs, want: readonly string[]) => Promise<VerifiedIndex>;

/** In this process (the CLI, tests, and the daemon's fallback). */
export const indexHere: Indexer = async (d, want) => {
  const tmp = scratch();
  try {
    return verifiedIndex(d, tmp.dir, new Set(want));
  } finally {
    tmp.cleanup();
  }
};

/** In a child that runs `command` (default: selfCommand()), or null when there is none. */
export function childIndexer(command = selfCommand()): Indexer | null {
  if (command === null) return null;
  return async (d, want) => decodeIndex(new TextDecoder().decode(await runChild(command, INDEX_CHILD_ARG, JSON.stringify({ dirs: d, want }), LIMIT_MS, MAX_ANSWER)));
}

export function encodeIndex(ix: VerifiedIndex): string {
  return JSON.stringify({ debs: [...ix.debs], problems: ix.problems });
}

/** The index in a child's answer; throws on anything malformed. Pure. */
export function decodeIndex(text: string): VerifiedIndex {
  const bad = () => new Error("a malformed index");
  const o = JSON.parse(text) as { debs?: unknown; problems?: unknown };
  if (!Array.isArray(o.debs) || !Array.isArray(o.problems) || !o.problems.every((p) => typeof p === "string")) throw bad();
  const debs = new Map<string, DebEvidence[]>();
  for (const entry of o.debs as unknown[]) {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== "string" || !Array.isArray(entry[1])) throw bad();
    const list: DebEvidence[] = [];
    for (const e of entry[1] as Array<Record<string, unknown>>) {
      if (typeof e?.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(e.sha256) || typeof e.origin !== "string" || typeof e.key !== "string") throw bad();
      list.push({ sha256: e.sha256, origin: e.origin, key: e.key });
    }
    debs.set(entry[0], list);
  }
  return { debs, problems: o.problems as string[] };
}

/** The child's side: read the index asked for on stdin, answer on stdout. Returns the exit code. */
export async function runIndexChild(): Promise<number> {
  try {
    const input = JSON.parse(await childInput()) as { dirs: AptDirs; want: string[] };
    const ix = await indexHere(input.dirs, input.want);
    await Bun.write(Bun.stdout, encodeIndex(ix));
    return 0;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
}
