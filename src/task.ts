// The contract between the daemon and its tasks (reporter, PID watch, logs,
// scanner). A leaf: it imports nothing of ours but types, so every task can
// depend on it without depending on the daemon.
import type { Database } from "bun:sqlite";
import type { Config } from "./config/config.ts";

/** What a task is given at start: the open database and the running config. */
export interface TaskContext {
  db: Database;
  /** The configuration in force; replaced (not mutated) on SIGHUP. */
  config: Config;
}

/** A running task: it owns its timers and its tables. */
export interface Task {
  name: string;
  /** Apply a new, already validated configuration. */
  reload?(config: Config): void | Promise<void>;
  /** Stop timers and finish the current transaction. */
  stop(): void | Promise<void>;
}

export type TaskFactory = (ctx: TaskContext) => Task | null | Promise<Task | null>;
