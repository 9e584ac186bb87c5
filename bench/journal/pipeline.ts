// The measured side of bench/journal/run.ts, in its own process: export-format
// entries read through our parser, each rendered, classified with Debian's
// rules and turned into its events, as the journal task does (without the
// database).
//   bun bench/journal/pipeline.ts journalctl DIR RULES_HOME   fed by journalctl -o export --directory=DIR
//   bun bench/journal/pipeline.ts file EXPORT RULES_HOME      fed from an export file in memory, 64 KiB at a time
// Add "parse-only" to skip rendering and classification.
// Prints one JSON line: entries, events, rules load seconds, read seconds (wall and CPU).
import { readFileSync } from "node:fs";
import { loadRuleSet } from "../../src/rules/load.ts";
import { entryEvents } from "../../src/logs/journal/events.ts";
import { ExportParser } from "../../src/logs/journal/export.ts";
import { JOURNALCTL, spawnJournalctl } from "../../src/logs/journal/reader.ts";

const [from, path, home, mode] = process.argv.slice(2);
const t0 = performance.now();
const rules = await loadRuleSet({ home }, "server", { fallback: {} });
const data = from === "file" ? readFileSync(path) : null;
const loaded = performance.now();
const cpu0 = process.cpuUsage();
const ctx = { source: "bench", classifier: rules.classifier, sourceTrusted: true, machineId: null, localHost: "host" };
const parser = new ExportParser();
let entries = 0;
let events = 0;
const take = (chunk: Uint8Array) => {
  for (const e of parser.push(chunk)) {
    entries++;
    if (mode !== "parse-only") events += entryEvents(e, ctx).length;
  }
};
if (data) {
  for (let i = 0; i < data.length; i += 65536) take(data.subarray(i, i + 65536));
} else {
  const child = spawnJournalctl([JOURNALCTL, "-o", "export", "--no-pager", `--directory=${path}`]);
  for await (const chunk of child.stdout) take(chunk);
  await child.exited;
}
const end = performance.now();
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ entries, events, loadSeconds: (loaded - t0) / 1000, readSeconds: (end - loaded) / 1000, readCpuSeconds: (cpu.user + cpu.system) / 1e6 }));
