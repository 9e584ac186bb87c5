// Shared helpers for the scanner tests: real temp trees and databases.
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig, type Config } from "../../src/config/config.ts";
import { initDatabase, openDatabase } from "../../src/db/db.ts";
import { runScanOnce } from "../../src/scan/index.ts";
import { Scanner, type ScannerOptions } from "../../src/scan/scanner.ts";

export interface Env {
  dir: string;
  area: string;
  config: Config;
  cleanup(): void;
}

export function makeEnv(over: Partial<Config> = {}): Env {
  const dir = mkdtempSync(join(tmpdir(), "integrityd-scan-"));
  const area = join(dir, "area");
  mkdirSync(area);
  const config = { ...defaultConfig(join(dir, "integrityd.conf")), areas: [area], database: join(dir, "db", "integrityd.sqlite"), ...over };
  initDatabase(config.database);
  return { dir, area, config, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function scanOnce(config: Config, isTTY = false): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runScanOnce(config, { out: (s) => (out += s), err: (s) => (err += s), isTTY });
  return { code, out, err };
}

/** Report blocks (one per event) from --scan-once output. */
export function reports(out: string): string[] {
  return out.split(/\n(?=\S)/).map((s) => s.trimEnd()).filter(Boolean);
}

export interface FakeTime {
  now(): number;
  sleep(ms: number): Promise<void>;
  slept: number;
  /** Every sleep, in order. */
  sleeps: number[];
}

/** A fake clock: sleeping advances it instantly. */
export function fakeTime(start = 1_800_000_000_000): FakeTime {
  const t: FakeTime = {
    slept: 0,
    sleeps: [],
    now: () => start,
    sleep: async (ms: number) => {
      start += ms;
      t.slept += ms;
      t.sleeps.push(ms);
      await Promise.resolve();
    },
  };
  return t;
}

/** A paced (daemon-mode) scanner on the env's database with a fake clock. */
export function pacedScanner(env: Env, opts: Partial<ScannerOptions> = {}, time = fakeTime()) {
  const db = openDatabase(env.config.database);
  const events: { kind: string; text: string }[] = [];
  const scanner = new Scanner({
    db, config: env.config, now: time.now, sleep: time.sleep, onEvent: (e) => events.push(e), tornPauseMs: 1, ...opts,
  });
  return { db, scanner, events, time, close: () => db.close() };
}

export function sha256(data: string | Uint8Array): string {
  return `sha256:${new Bun.CryptoHasher("sha256").update(data).digest("hex")}`;
}

/** Run f on the entry at path p as the walk names it: its parent directory's descriptor and its name. */
export function viaParent<T>(p: string | Uint8Array, f: (dirfd: number, name: Buffer) => T): T {
  const b = Buffer.from(p);
  const cut = b.lastIndexOf(0x2f);
  const fd = openSync(cut === 0 ? Buffer.from("/") : b.subarray(0, cut), constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    return f(fd, b.subarray(cut + 1));
  } finally {
    closeSync(fd);
  }
}

/**
 * A paced scanner on real timers, stepping in the background as the daemon's
 * task does, collecting its reports; stop() ends it and waits for its lane.
 */
export function liveScanner(env: Env, opts: Partial<ScannerOptions> = {}) {
  const db = openDatabase(env.config.database);
  const events: { kind: string; subject: string; text: string; at: number }[] = [];
  const scanner = new Scanner({ db, config: env.config, onEvent: (e) => events.push({ ...e, at: performance.now() }), ...opts });
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await scanner.step();
      if (r === "stopped") break;
      if (r === "idle") await scanner.pause(50);
    }
  })();
  return {
    db, scanner, events,
    async stop() {
      running = false;
      scanner.stop();
      await loop;
      await scanner.settled();
      db.close();
    },
  };
}

/** Poll until cond() holds (true) or ms pass (false). */
export async function until(cond: () => boolean, ms: number, every = 20): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (cond()) return true;
    await Bun.sleep(every);
  }
  return cond();
}
