// What the parts of a scan need from the scanner that hosts them: the drivers
// (trickle.ts, full.ts) and the visit of one path (visit.ts) see the scanner
// only through ScanHost, which scanner.ts implements. A leaf of types: the
// scanner imports its parts and they import this, so nothing imports back.
import type { Database } from "bun:sqlite";
import type { Config } from "../config/config.ts";
import type { CycleBook } from "./cycle.ts";
import type { OpenDirs } from "./dirs.ts";
import type { Matcher } from "./exclude.ts";
import type { Pacer } from "./pace.ts";
import type { PathBytes } from "./paths.ts";
import type { Listed, Visited } from "./reader.ts";
import type { Recorder, ScanEvent } from "./record.ts";
import type { Store } from "./store.ts";

export type StepResult = "visited" | "cycle-end" | "idle" | "stopped";

/** Why a path is visited: drawn from the queue, re-checked as the stalest or early (its ctime moved, soon.ts), read by the big-file lane, or hinted (hints/: a change hint, or an overflow's sweep). */
export type VisitWhy = "traverse" | "stalest" | "soon" | "lane" | "hint";

/** The big-file lane (lane.ts), as the visit and the trickle see it. */
export interface LaneDriver {
  /** first: ahead of every waiting path (a hinted one). */
  offer(path: PathBytes, first?: boolean): "queued" | "held" | "full";
  readonly held: ReadonlySet<string>;
  readonly busy: boolean;
  nextDone(): Promise<void>;
}

/**
 * Walks elsewhere (the worker pool): visits (and opens and lists) entry
 * `name` of the directory open as `dirfd`; visits a directory's children in
 * batches. The caller keeps `dirfd` open until the answer.
 */
export interface Walker {
  list(dirfd: number, name: Uint8Array, algo: string): Promise<Listed>;
  visitMany(dirfd: number, names: readonly Uint8Array[], algo: string): Promise<Visited[]>;
}

/** A directory's children in scope, each with what the walker found at it (same order). */
export interface Walked {
  children: PathBytes[];
  visited: Visited[];
}

export interface ScannerOptions {
  db: Database;
  config: Config;
  /** Full speed, no pacing, no reshuffles, no stalest re-check (--scan-once). */
  unlimited?: boolean;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Called after each committed report. */
  onEvent?: (ev: ScanEvent) => void;
  /** Test hooks. */
  hooks?: {
    visit?(path: PathBytes, why: VisitWhy): void;
    /** A directory was listed; its children are visited or queued next. */
    listed?(dir: PathBytes): void;
    chunk?(path: PathBytes, bytesSoFar: number): void | Promise<void>;
  };
  /**
   * Full speed: walk elsewhere (worker threads): visit and list a path, and
   * visit a directory's children in batches, so a file costs this thread no
   * system call and no visit of its own.
   */
  walker?: Walker;
  /** Attempts at hashing a file that keeps changing while read (default 3). */
  tornAttempts?: number;
  /** Pause before re-reading a file that changed while read (ms, times the attempt number). */
  tornPauseMs?: number;
  /** Big files that may wait for the lane (default lane.ts's LANE_CAPACITY). */
  laneCapacity?: number;
}

/** The paced driver, as the visit sees it. */
export interface TrickleDriver {
  queueBigDirectory(dir: PathBytes, names: Buffer[]): Promise<Set<string> | null | "stopped">;
  requestReshuffle(): void;
  /** A recorded non-directory's ctime moved: check it again early (soon.ts). */
  recheckSoon(path: PathBytes): void;
}

/** The full-speed driver, as the visit sees it. */
export interface FullDriver {
  /** The directories kept open through the pass (each one's from its parent's). */
  readonly dirs: OpenDirs;
  visitChildren(walker: Walker, dirfd: number, dir: PathBytes, names: Buffer[]): Promise<Walked | null>;
  parentGone(path: PathBytes): boolean;
}

export interface ScanHost {
  readonly db: Database;
  readonly store: Store;
  readonly pacer: Pacer;
  readonly cycles: CycleBook;
  readonly recorder: Recorder;
  readonly unlimited: boolean;
  readonly now: () => number;
  readonly opts: ScannerOptions;
  readonly config: Config;
  readonly areas: readonly PathBytes[];
  readonly excluded: Matcher;
  readonly stopped: boolean;
  readonly trickle: TrickleDriver | null;
  readonly full: FullDriver | null;
  /** The daemon's big-file lane (null at full speed: no pacing, files read where they are visited). */
  readonly lane: LaneDriver | null;
  sleep(ms: number): Promise<void>;
  areaOf(path: PathBytes): PathBytes | null;
  childrenInScope(dir: PathBytes, names: Buffer[]): { names: Buffer[]; children: PathBytes[] };
  visit(path: PathBytes, why: VisitWhy): Promise<void>;
  startCycle(): void;
  endCycle(): void;
  requeueUnvisited(): boolean;
  sweepSome(): void;
  finishSweep(): void;
}
