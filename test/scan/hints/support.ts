// Helpers for the change-hint tests: a daemon-like scanner with hints on a
// real tree (the trickle slowed to a crawl, so what is found fast was found
// by a hint), and waiting on the events table.
import type { Database } from "bun:sqlite";
import { afterEach } from "bun:test";
import type { Config } from "../../../src/config/config.ts";
import { closeSync } from "node:fs";
import { openDatabase } from "../../../src/db/db.ts";
import { hintCalls } from "../../../src/scan/hints/ffi.ts";
import { Hints } from "../../../src/scan/hints/hints.ts";
import { Scanner } from "../../../src/scan/scanner.ts";

export interface Running {
  db: Database;
  scanner: Scanner;
  hints: Hints;
  stop(): Promise<void>;
}

/**
 * The tree and the running scanner of the test under way, stopped and removed
 * after each test of the file that calls this (once, at its top level):
 * `env = cleanup.tree(makeEnv(...))`, `run = cleanup.running(await runWithHints(...))`.
 */
export function cleanedAfterEach(): { tree<T extends { cleanup(): void }>(t: T): T; running(r: Running): Running } {
  let tree: { cleanup(): void } | null = null;
  let running: Running | null = null;
  afterEach(async () => {
    await running?.stop();
    running = null;
    tree?.cleanup();
    tree = null;
  });
  return {
    tree: (t) => { tree = t; return t; },
    running: (r) => { running = r; return r; },
  };
}

export async function runWithHints(config: Config, opts: { trickle?: boolean } = {}): Promise<Running> {
  const db = openDatabase(config.database);
  const scanner = new Scanner({ db, config });
  const hints = new Hints(scanner);
  await hints.start();
  let running = true;
  const loop = (async () => {
    while (running && opts.trickle !== false) {
      const r = await scanner.step();
      if (r === "stopped") break;
      if (r === "idle") await scanner.pause(50);
    }
  })();
  return {
    db, scanner, hints,
    async stop() {
      running = false;
      scanner.stop();
      await hints.stop();
      await loop;
      await scanner.settled();
      db.close();
    },
  };
}

export interface Row {
  id: number;
  kind: string;
  subject: string;
  text: string;
  details: string;
}

/** Wait until `pred` holds of the events (ms at most); the events then. */
export async function waitEvents(db: Database, pred: (rows: Row[]) => boolean, ms: number): Promise<Row[]> {
  const t0 = Date.now();
  for (;;) {
    const rows = db.query("SELECT id, kind, subject, text, details FROM events ORDER BY id").all() as Row[];
    if (pred(rows) || Date.now() - t0 > ms) return rows;
    await Bun.sleep(25);
  }
}

/** Run a shell command line in a child process (the writer a hint names). */
export function sh(cmd: string): void {
  const r = Bun.spawnSync(["sh", "-c", cmd], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`sh -c ${cmd}: ${r.stderr.toString()}`);
}

/** Why fanotify with a filesystem mark cannot be used here (null: it can). */
export function fanotifyRefused(): string | null {
  const c = hintCalls();
  if (!c) return "no libc";
  try {
    const fd = c.fanotifyInit();
    try {
      c.fanotifyMark(fd, "/tmp");
    } finally {
      closeSync(fd);
    }
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
