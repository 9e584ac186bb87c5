// `integrityd --apt-hook`: run by apt as DPkg::Pre-Install-Pkgs with the
// Version 3 protocol (stdin: "VERSION 3", apt's configuration as
// name=value lines (%-quoted), a blank line, then one line per package
// action, the .deb's path last). Before dpkg unpacks anything, every .deb is
// read into a manifest, checked against the verified indexes of the sources
// apt uses (with apt's own directories from that configuration), and stored
// in the database with a summary event.
//
// How evidence reaches the database: written directly, in one short
// transaction per package, with a long busy timeout (the daemon's writes are
// short transactions; SQLite's WAL lets both in turn). The hook never makes apt
// fail: every problem is written to stderr (apt shows it) and the exit status
// is 0 always.
import { decodeHookInput, type HookInput } from "./protocol.ts";
import { aptDirs, verifiedIndex, type VerifiedIndex } from "./archive.ts";
import { storeCapture } from "./capture.ts";
import { manifestsInOrder } from "./manifest.ts";
import { scratch } from "./gpg.ts";

export const HOOK_BUSY_MS = 60_000;

export interface HookIo {
  err: (s: string) => void;
  /** opens the database named by the config (throws with a message when it cannot) */
  openDb: () => import("bun:sqlite").Database;
  now: () => number;
}

export async function runAptHook(stdin: string, io: HookIo): Promise<number> {
  let input: HookInput;
  try {
    input = decodeHookInput(stdin);
  } catch (e) {
    io.err(`integrityd --apt-hook: ${(e as Error).message}; nothing captured\n`);
    return 0;
  }
  const debs = input.actions.filter((a) => a.deb !== null);
  if (debs.length === 0) return 0;
  let db;
  try {
    db = io.openDb();
    db.exec(`PRAGMA busy_timeout = ${HOOK_BUSY_MS}`);
  } catch (e) {
    io.err(`integrityd --apt-hook: ${(e as Error).message}; package evidence not captured\n`);
    return 0;
  }
  const tmp = scratch();
  try {
    let index: VerifiedIndex;
    try {
      index = verifiedIndex(aptDirs(input.config), tmp.dir);
    } catch (e) {
      index = { debs: new Map(), problems: [`indexes not read: ${(e as Error).message}`] };
    }
    // built several at a time (manifest.ts), stored in apt's order, one transaction each
    let i = 0;
    for await (const m of manifestsInOrder(debs.map((a) => a.deb!))) {
      const a = debs[i++];
      try {
        if (m instanceof Error) throw m;
        storeCapture(db, m, a.oldVersion, index, io.now());
      } catch (e) {
        io.err(`integrityd --apt-hook: ${a.deb}: ${(e as Error).message}; not captured\n`);
      }
    }
  } finally {
    tmp.cleanup();
    db.close();
  }
  return 0;
}
