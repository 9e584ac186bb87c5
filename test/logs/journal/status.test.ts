// `--status` for journal sources: each source with its cursor, the entries
// read, and its lag against the journal's newest entry (journalctl run now).
import { afterAll, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { statusReport } from "../../../src/cli/status.ts";
import { parseJournalValue } from "../../../src/config/journal.ts";
import { journalStatus } from "../../../src/logs/journal/status.ts";
import { saveJournal } from "../../../src/logs/journal/store.ts";
import { cleanupAll, makeEnv } from "../helpers.ts";
import { cursors, entry, journalToolsMissing, writeJournal } from "../../support/journal.ts";

afterAll(cleanupAll);

test("each source: its cursor, entries read, and how many entries (and seconds) it is behind", () => {
  const why = journalToolsMissing();
  if (why) return console.log(`skipped: ${why}`);
  const env = makeEnv([]);
  const jdir = join(env.dir, "j");
  mkdirSync(jdir);
  const t0 = 1_790_000_000_000_000;
  writeJournal(join(jdir, "x.journal"), Array.from({ length: 5 }, (_, i) => entry(`m ${i}`, t0 + i * 2_000_000)));
  const cs = cursors(jdir);
  const spec = parseJournalValue(`directory:${jdir}`, { level: "server", rules: env.rules }, 1);
  if (typeof spec === "string") throw new Error(spec);
  env.config.journals = [spec];
  saveJournal(env.db, { source: spec.source, cursor: cs[1], realtime: t0 + 2_000_000, entries: 7, problem: "", updated: Date.now() }, [], Date.now());
  expect(journalStatus(env.db, [spec])).toEqual([
    expect.objectContaining({ source: spec.source, cursor: cs[1], entries: 7, lagEntries: 3, lagSeconds: 6, at: (t0 + 2_000_000) / 1000 }),
  ]);
  const text = statusReport(env.db, env.config);
  expect(text).toContain("Journals (1)");
  expect(text).toContain(`${spec.source}  cursor ${cs[1]}`);
  expect(text).toContain("3 entries (6s) behind  7 entries read");
  saveJournal(env.db, { source: spec.source, cursor: cs[4], realtime: t0 + 8_000_000, entries: 10, problem: "journalctl exited with status 1", updated: Date.now() }, [], Date.now());
  const again = statusReport(env.db, env.config);
  expect(again).toContain("caught up");
  expect(again).toContain("PROBLEM: journalctl exited with status 1");
});
