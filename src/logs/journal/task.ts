// The journal task: one JournalSource (source.ts) per `journal` config line,
// each with its own journalctl child, classified with the `logrules` in force
// above its line (rule sets loaded and refreshed as the log follower does,
// src/rules/reload.ts; each distinct problem of a rule set is logged once —
// the log follower queues the notices for the homes its logs use).
// The sources share one time slice: the task yields to the event loop when a
// stretch of work exceeds SLICE_MS. Reload: sources no longer configured are
// stopped and their rows forgotten (configured again, they start at the end);
// new ones are started; a changed `logrules` takes effect at the next batch.
//
// Wiring: the daemon registers `createJournalTask` as a task factory.
import { readFileSync } from "node:fs";
import type { Config } from "../../config/config.ts";
import type { JournalSpec } from "../../config/journal.ts";
import { dbRuleCache } from "../../rules/cache.ts";
import { childCompiler } from "../../rules/child.ts";
import { ruleSetKey, RuleSets } from "../../rules/reload.ts";
import type { Task, TaskContext } from "../../task.ts";
import { log } from "../../util/log.ts";
import { yieldToLoop } from "../../util/loop.ts";
import { JournalSource, type SourceContext } from "./source.ts";
import { forgetJournals } from "./store.ts";

const SLICE_MS = 10;

/** This machine's id, or null when /etc/machine-id cannot be read. */
export function localMachineId(path = "/etc/machine-id"): string | null {
  try {
    const id = readFileSync(path, "latin1").trim();
    return /^[0-9a-f]{32}$/.test(id) ? id : null;
  } catch {
    return null;
  }
}

export interface JournalTaskOptions {
  /** first restart delay (tests) */
  backoffMinMs?: number;
}

export interface JournalTask extends Task {
  sources(): string[];
}

export function createJournalTask(ctx: TaskContext, opts: JournalTaskOptions = {}): JournalTask {
  const { db } = ctx;
  let config: Config = ctx.config;
  const rules = new RuleSets(dbRuleCache(db), childCompiler()); // compiled rule sets kept in the database, shared with the tailer's loads (rules/cache.ts)
  const running = new Map<string, JournalSource>();
  const warned = new Set<string>();
  let stopped = false;
  let sliceStart = performance.now();
  let ruleTimer: ReturnType<typeof setInterval> | null = null;

  const keyOf = (s: JournalSpec) => ({ home: s.rules, level: s.level, crackingignore: config.crackingignore });
  const sctx: SourceContext = {
    db,
    machineId: localMachineId(),
    backoffMinMs: opts.backoffMinMs,
    stopped: () => stopped,
    async maybeYield() {
      if (performance.now() - sliceStart > SLICE_MS) {
        await yieldToLoop();
        sliceStart = performance.now();
      }
    },
    async classifier(spec) {
      // the spec in force now (a reload may have changed its logrules)
      const cur = running.get(spec.source)?.spec ?? spec;
      const s = await rules.ensure(keyOf(cur));
      for (const p of s.problems) {
        if (!warned.has(p)) {
          warned.add(p);
          log.warn(`rules: ${p}`);
        }
      }
      return s.classifier;
    },
  };

  const apply = (c: Config) => {
    config = c;
    const want = new Map(c.journals.map((j) => [j.source, j]));
    for (const [k, s] of running) {
      if (!want.has(k)) {
        s.stop();
        running.delete(k);
      }
    }
    forgetJournals(db, (k) => want.has(k));
    for (const [k, spec] of want) {
      const s = running.get(k);
      if (s) s.spec = spec;
      else running.set(k, new JournalSource(spec, sctx));
    }
    rules.retain(new Set([...want.values()].map((s) => ruleSetKey(keyOf(s)))));
    if (ruleTimer) clearInterval(ruleTimer);
    ruleTimer = running.size > 0 ? setInterval(() => void rules.refresh().catch((e) => log.error(`rules: reload failed: ${(e as Error).message}`)), Math.min(2 ** 31 - 1, c.logruleupdate * 1000)) : null;
  };

  apply(config);

  return {
    name: "journal",
    sources: () => [...running.keys()],
    reload(c: Config) {
      if (!stopped) apply(c);
    },
    async stop() {
      stopped = true;
      if (ruleTimer) clearInterval(ruleTimer);
      for (const s of running.values()) s.stop();
      await Promise.all([...running.values()].map((s) => s.done));
    },
  };
}
