// The daemon's daily backfill pass (backfill.ts) in a child process
// (util/selfchild.ts): reading the signed indexes (gpgv, ~70 MB of Debian's
// Packages files, ~2 s of CPU), then one package per pace with its .deb
// streamed through dpkg-deb and hashed. Done in the daemon, the index read
// blocked the event loop for seconds and the pass left the daemon ~15-60 MiB
// higher (freed garbage whose pages the allocator keeps). The child opens the
// database itself - as the apt hook does; each package is one transaction,
// so a child stopped at any moment (SIGTERM when the daemon stops or
// `packages = off` is reloaded) leaves only whole manifests - and exits when
// the pass ends, giving every page back. A child whose daemon died (kill -9)
// is ended by the kernel (childMain's PR_SET_PDEATHSIG), and also stops at
// its next package when it sees its parent changed.
//
// The child opens the database as a helper beside the daemon (no schema
// statements, no quick_check of the whole file: the daemon did both).
//
// Protocol (stdin): JSON {database, dirs: AptDirs, paceMs}.
// (stdout): JSON BackfillCounts. decodeCounts checks every field.
import { openDatabase } from "../db/db.ts";
import { sleepMs } from "../util/loop.ts";
import { childMain, runChild, selfCommand } from "../util/selfchild.ts";
import type { AptDirs } from "./archive.ts";
import { backfillAll, type BackfillCounts } from "./backfill.ts";

/** The argument that makes the program a backfill child (main.ts). Not an option: no user types it. */
export const BACKFILL_CHILD_ARG = "--internal-backfill";
/** A pass that runs longer is stopped (~3,000 packages at one per 2 s: under 2 h). */
const LIMIT_MS = 24 * 3600_000;
const MAX_ANSWER = 1 << 20;
/** The child waits this long for a busy database (the daemon writes in short transactions). */
const BUSY_MS = 30_000;

/** Runs one backfill pass over the database at `database`; rejects with why when the pass did not end (an aborted one: "it exited with SIGTERM"). */
export type BackfillRunner = (database: string, dirs: AptDirs, paceMs: number, signal: AbortSignal) => Promise<BackfillCounts>;

/** The runner that starts `command` (default: selfCommand()), or null when there is none. */
export function childBackfill(command = selfCommand()): BackfillRunner | null {
  if (command === null) return null;
  return async (database, dirs, paceMs, signal) => decodeCounts(new TextDecoder().decode(await runChild(command, BACKFILL_CHILD_ARG, JSON.stringify({ database, dirs, paceMs }), LIMIT_MS, MAX_ANSWER, signal)));
}

/** A child's counts; throws on anything malformed. Pure. */
export function decodeCounts(text: string): BackfillCounts {
  const o = JSON.parse(text) as Record<string, unknown>;
  const n = (k: string) => (Number.isSafeInteger(o[k]) && (o[k] as number) >= 0 ? (o[k] as number) : NaN);
  const c = { verified: n("verified"), "md5-only": n("md5-only"), none: n("none"), problems: o.problems as string[] };
  if ([c.verified, c["md5-only"], c.none].some(Number.isNaN) || !Array.isArray(c.problems) || !c.problems.every((p) => typeof p === "string")) throw new Error("malformed counts");
  return c;
}

/** The child's side: one paced pass, its counts on stdout. Returns the exit code. */
export function runBackfillChild(): Promise<number> {
  return childMain(async (job) => {
    const input = job as { database: string; dirs: AptDirs; paceMs: number };
    const db = openDatabase(input.database, { beside: true });
    try {
      db.exec(`PRAGMA busy_timeout = ${BUSY_MS}`);
      const pace = Math.max(0, Number(input.paceMs) || 0);
      const parent = process.ppid;
      const counts = await backfillAll(db, input.dirs, async () => {
        await sleepMs(pace);
        return process.ppid === parent; // a daemon killed outright: stop with it, never run on as an orphan
      }, Date.now);
      return JSON.stringify(counts);
    } finally {
      db.close();
    }
  });
}
