// One journal source: the journalctl child (reader.ts) followed from the
// stored cursor, its entries parsed (export.ts), judged for continuity
// (cursor.ts), turned into events (events.ts) and committed with the new
// cursor in one transaction per batch (store.ts): exactly once under kill -9.
//
// First start (no row): the cursor of the journal's last entry is stored
// before anything is read, so the history is not reported and nothing written
// after that moment is lost, even if we die before the first new entry. An
// empty journal stores "" and is then read from its beginning.
//
// journalctl failing (journal missing, unreadable, a bad cursor) or dying is
// one notice per distinct problem (kept in the row, so restarts do not
// repeat it) and a restart with backoff (BACKOFF_MIN doubling to BACKOFF_MAX);
// the other sources and the rest of the daemon are not affected. Anything
// journalctl writes to stderr is such a problem.
import type { Database } from "bun:sqlite";
import { lstatSync, readdirSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type { JournalSpec } from "../../config/journal.ts";
import { untrustedPath } from "../../config/trust.ts";
import type { Classifier } from "../../rules/layers.ts";
import { log } from "../../util/log.ts";
import { type LogEvent, noticeEvent, queueEvent } from "../store.ts";
import { judgeResume, parseCursor, type Cursor } from "./cursor.ts";
import { entryEvents, type EntryContext } from "./events.ts";
import { ExportError, ExportParser, type JournalEntry } from "./export.ts";
import { followArgs, lastEntry, spawnJournalctl, type Child } from "./reader.ts";
import { realtimeUs } from "./render.ts";
import { type JournalRow, loadJournal, saveJournal } from "./store.ts";

export const BACKOFF_MIN = 1000;
export const BACKOFF_MAX = 60_000;
/** Most entries per transaction. */
const BATCH = 2000;

export interface SourceContext {
  db: Database;
  /** the classifier of the source's rule set (loaded when this resolves) */
  classifier(spec: JournalSpec): Promise<Classifier>;
  stopped(): boolean;
  maybeYield(): Promise<void>;
  /** this machine's id (/etc/machine-id), null when unknown */
  machineId: string | null;
  backoffMinMs?: number;
}

/** Why a trusted-directory source cannot be trusted (it, or a file in it, changeable by others), or null. */
export function directoryDistrust(dir: string): string | null {
  const top = untrustedPath(dir);
  if (top) return top;
  const walk = (d: string, depth: number): string | null => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch (e) {
      return `${d}: ${(e as NodeJS.ErrnoException).code ?? "cannot be read"}`;
    }
    for (const n of names) {
      const p = join(d, n);
      const why = untrustedPath(p);
      if (why) return why;
      if (depth > 0 && lstatSync(p).isDirectory()) {
        const sub = walk(p, depth - 1);
        if (sub) return sub;
      }
    }
    return null;
  };
  return walk(dir, 1);
}

export class JournalSource {
  private child: Child | null = null;
  private wake: (() => void) | null = null;
  /** problems noticed in this run (the row keeps the last one across runs) */
  private noticed = new Set<string>();
  readonly done: Promise<void>;
  private halted = false;

  private get over(): boolean {
    return this.halted || this.ctx.stopped();
  }

  constructor(public spec: JournalSpec, private readonly ctx: SourceContext) {
    this.done = this.loop();
  }

  get source(): string {
    return this.spec.source;
  }

  /** Stop: kill the child; `done` resolves when the last batch is committed. */
  stop(): void {
    this.halted = true;
    this.child?.kill();
    this.wake?.();
  }

  private async loop(): Promise<void> {
    const min = this.ctx.backoffMinMs ?? BACKOFF_MIN;
    let delay = min;
    while (!this.over) {
      let progressed = false;
      try {
        progressed = await this.run();
      } catch (e) {
        this.problem(null, `${(e as Error).message}`);
      }
      if (this.over) break;
      if (progressed) delay = min;
      await new Promise<void>((r) => {
        const t = setTimeout(r, delay);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
      this.wake = null;
      delay = Math.min(delay * 2, BACKOFF_MAX);
    }
  }

  /** One notice per distinct problem (and the row remembers the last one across restarts). */
  private problem(row: JournalRow | null, what: string): void {
    if (this.noticed.has(what) || (row !== null && row.problem === what)) return;
    this.noticed.add(what);
    const text = `journal ${this.source}: ${what}; retried with backoff, the rest keeps working`;
    log.warn(text);
    const ev = noticeEvent(`journal ${this.source}`, text, { journal: { source: this.source } });
    if (row === null) queueEvent(this.ctx.db, ev);
    else {
      row.problem = what;
      saveJournal(this.ctx.db, row, [ev], Date.now());
    }
  }

  private trust(row: JournalRow | null): { trusted: boolean; machineId: string | null } {
    const { spec } = this;
    if (spec.directory === null) return { trusted: true, machineId: this.ctx.machineId };
    if (!spec.trustedDirectory) return { trusted: false, machineId: null };
    const why = directoryDistrust(spec.directory);
    if (why === null) return { trusted: true, machineId: null };
    this.problem(row, `trusted-directory ${spec.directory} is not trusted (${why}): its entries are read as untrusted`);
    return { trusted: false, machineId: null };
  }

  /** One run of journalctl; true when entries came. */
  private async run(): Promise<boolean> {
    const { ctx, spec } = this;
    let row = loadJournal(ctx.db, this.source);
    if (row === null) {
      const last = await lastEntry(spec);
      if (this.over) return false;
      if (last !== null && "error" in last) {
        this.problem(null, last.error);
        return false;
      }
      row = { source: this.source, cursor: last?.cursor ?? "", realtime: last?.realtime ?? 0, entries: 0, problem: "", updated: 0 };
      saveJournal(ctx.db, row, [], Date.now());
      log.info(`journal ${this.source}: first start, following from ${last ? "its end" : "its beginning (empty)"}`);
    }
    const trust = this.trust(row);
    const classifier = await ctx.classifier(spec);
    if (this.over) return false;
    const ectx: EntryContext = { source: this.source, classifier, sourceTrusted: trust.trusted, machineId: trust.machineId, localHost: hostname() };
    let judging: Cursor | null = row.cursor === "" ? null : parseCursor(row.cursor);
    const filtered = spec.matches.length > 0;
    const r = row;
    const child = spawnJournalctl(followArgs(spec, row.cursor), (line) => this.problem(r, `journalctl: ${line}`));
    this.child = child;
    const parser = new ExportParser();
    let got = false;
    try {
      for await (const chunk of child.stdout) {
        if (this.over) break;
        const entries = parser.push(chunk);
        for (let k = 0; k < entries.length; k += BATCH) {
          const events: LogEvent[] = [];
          let last: JournalEntry | null = null;
          for (const e of entries.slice(k, k + BATCH)) {
            if (!e.has("__CURSOR")) continue; // (journalctl always gives one)
            if (judging !== null) {
              const raw = e.text("__CURSOR");
              const c = raw === undefined ? null : parseCursor(raw);
              if (c !== null) {
                const j = judgeResume(judging, c, filtered);
                if (j.kind === "seen") continue;
                judging = null;
                if (j.kind === "anchor") continue;
                if (j.kind === "gap") {
                  log.warn(`journal ${this.source}: ${j.notice}`);
                  events.push(noticeEvent(`journal ${this.source}`, `journal ${this.source}: ${j.notice}`, { journal: { source: this.source, cursor: raw }, skipped: j.skipped }));
                }
              }
            }
            events.push(...entryEvents(e, ectx));
            row.entries++;
            last = e;
          }
          const cursor = last?.text("__CURSOR");
          const moved = cursor !== undefined;
          if (moved) {
            row.cursor = cursor;
            row.realtime = realtimeUs(last!);
          }
          if (!moved && events.length === 0) continue;
          got = true;
          if (row.problem !== "") {
            log.info(`journal ${this.source}: read again`);
            row.problem = "";
            this.noticed.clear();
          }
          saveJournal(ctx.db, row, events, Date.now());
          await ctx.maybeYield();
          if (this.over) break;
        }
        if (this.over) break;
      }
    } catch (e) {
      if (!(e instanceof ExportError)) throw e;
      this.problem(row, e.message);
    } finally {
      child.kill();
      this.child = null;
    }
    const code = await child.exited;
    const err = await child.stderr;
    if (!this.over) this.problem(row, `journalctl exited with status ${code}${err ? `: ${err.split("\n")[0]}` : ""}`);
    return got;
  }
}
