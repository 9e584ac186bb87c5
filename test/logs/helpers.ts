// The shared fixture of the log follower's task tests: a real database in a
// temp dir, a config, a rules home written as files, the task started; and
// readers of the queued events. Every test file calls `afterEach(cleanupAll)`.
import type { Database } from "bun:sqlite";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type Config, defaultConfig, type Level } from "../../src/config/config.ts";
import { initDatabase, openDatabase } from "../../src/db/db.ts";
import { createTailTask, type TailOptions, type TailTask } from "../../src/logs/tailer.ts";

export interface Env {
  dir: string;
  dbPath: string;
  db: Database;
  rules: string;
  config: Config;
  tasks: TailTask[];
  cleanup: () => Promise<void>;
}

const live: Env[] = [];

/** Stop the tasks and remove the temp dirs of every Env made so far (afterEach). */
export async function cleanupAll(): Promise<void> {
  while (live.length > 0) await live.pop()!.cleanup();
}

export function makeEnv(logs: string[] = ["app.log"], opts: { level?: Level; rules?: string } = {}): Env {
  const dir = mkdtempSync(join(tmpdir(), "integrityd-tailer-"));
  const dbPath = join(dir, "db", "integrityd.sqlite");
  initDatabase(dbPath);
  const db = openDatabase(dbPath);
  const rules = opts.rules ?? join(dir, "rules");
  mkdirSync(join(dir, "logs"), { recursive: true });
  const config = defaultConfig(join(dir, "integrityd.conf"));
  config.database = dbPath;
  config.logs = logs.map((l, i) => ({ path: join(dir, "logs", l), level: opts.level ?? "server", rules, line: i + 1 }));
  config.logchecktime = 3600; // tests drive passes with settle() (or rely on fs.watch)
  config.logruleupdate = 3600;
  const tasks: TailTask[] = [];
  const env: Env = {
    dir, dbPath, db, rules, config, tasks,
    cleanup: async () => {
      for (const t of tasks) await t.stop(); // a failed test leaves its task running
      try { env.db.close(); } catch { /* closed */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  live.push(env);
  return env;
}

export interface Following {
  env: Env;
  /** the first log's path */
  log: string;
  logs: string[];
  task: TailTask;
}

/**
 * The usual start: an Env with `rules` written, every log created empty, the
 * task started (rotation grace 0 unless `tail` says otherwise; `config` set
 * before it starts) and settled, so
 * each log is followed from its (empty) end.
 */
export async function following(
  rules: Record<string, string>, opts: { logs?: string[]; tail?: TailOptions; config?: Partial<Config> } = {},
): Promise<Following> {
  const env = makeEnv(opts.logs);
  Object.assign(env.config, opts.config);
  writeRules(env.rules, rules);
  const logs = env.config.logs.map((l) => l.path);
  for (const l of logs) {
    mkdirSync(dirname(l), { recursive: true });
    writeFileSync(l, "");
  }
  const task = start(env, opts.tail);
  await task.settle();
  return { env, log: logs[0], logs, task };
}

/** Write rule files: { "ignore.d.server/test": "^noise\n" }. */
export function writeRules(home: string, files: Record<string, string>): void {
  mkdirSync(home, { recursive: true });
  // a home with no cracking.d/violations.d rules gets the embedded rules layered
  // under it (rules/load.ts); these tests want exactly their own rules
  if (!Object.keys(files).some((k) => k.startsWith("cracking.d/") || k.startsWith("violations.d/"))) {
    files = { ...files, "cracking.d/test-only": "^integrityd test rule that never matches$\n" };
  }
  for (const [rel, text] of Object.entries(files)) {
    const p = join(home, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, Buffer.from(text, "latin1")); // rule files are bytes: "\xe9" is one byte
  }
}

export function start(env: Env, opts: TailOptions = { rotateGraceMs: 0 }): TailTask {
  const t = createTailTask({ db: env.db, config: env.config }, opts);
  env.tasks.push(t);
  return t;
}

export interface Ev {
  id: number;
  kind: string;
  section: string;
  subject: string;
  text: string;
  urgent: number;
  details: string;
}

export function events(db: Database, kind?: string): Ev[] {
  const rows = db.query("SELECT id, kind, section, subject, text, urgent, details FROM events WHERE channel = 'log' ORDER BY id").all() as Ev[];
  return kind ? rows.filter((r) => r.kind === kind) : rows;
}

export function texts(db: Database, kind = "system"): string[] {
  return events(db, kind).map((e) => e.text);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait until cond() holds (checked every 10 ms), at most `max` ms; returns whether it held. */
export async function until(cond: () => boolean, max = 5000): Promise<boolean> {
  const end = Date.now() + max;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(10);
  }
  return cond();
}
