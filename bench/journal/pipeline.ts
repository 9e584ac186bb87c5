// The measured side of bench/journal/run.ts, in its own process: export-format
// entries read through our parser, each rendered, classified with Debian's
// rules and turned into its events, as the journal task does (without the
// database).
//   bun bench/journal/pipeline.ts journalctl DIR RULES_HOME   fed by journalctl -o export --directory=DIR
//   bun bench/journal/pipeline.ts file EXPORT RULES_HOME      fed from an export file in memory, 64 KiB at a time,
//                                                             three times over (the first is cold: JIT and heap growth;
//                                                             the last is the daemon's steady state)
// Add "parse-only" to skip rendering and classification.
// Prints one JSON line: entries, events, rules load seconds, read seconds (wall and CPU) of the
// first pass, and of the last pass (warm*; file mode).
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
let warm = { readSeconds: 0, readCpuSeconds: 0 };
if (data) {
  for (let i = 0; i < data.length; i += 65536) take(data.subarray(i, i + 65536));
  const first = { end: performance.now(), cpu: process.cpuUsage(cpu0) };
  for (let pass = 2; pass <= 3; pass++) {
    const w0 = performance.now();
    const c0 = process.cpuUsage();
    const p2 = new ExportParser();
    let n = 0;
    for (let i = 0; i < data.length; i += 65536) for (const e of p2.push(data.subarray(i, i + 65536))) n += mode === "parse-only" ? 1 : entryEvents(e, ctx).length + 1;
    const c = process.cpuUsage(c0);
    warm = { readSeconds: (performance.now() - w0) / 1000, readCpuSeconds: (c.user + c.system) / 1e6 };
    if (n < entries) throw new Error("a warm pass read fewer entries");
  }
  console.log(JSON.stringify({ entries, events, loadSeconds: (loaded - t0) / 1000, readSeconds: (first.end - loaded) / 1000, readCpuSeconds: (first.cpu.user + first.cpu.system) / 1e6, warmReadSeconds: warm.readSeconds, warmReadCpuSeconds: warm.readCpuSeconds }));
  process.exit(0);
} else {
  const child = spawnJournalctl([JOURNALCTL, "-o", "export", "--no-pager", `--directory=${path}`]);
  for await (const chunk of child.stdout) take(chunk);
  await child.exited;
}
const end = performance.now();
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ entries, events, loadSeconds: (loaded - t0) / 1000, readSeconds: (end - loaded) / 1000, readCpuSeconds: (cpu.user + cpu.system) / 1e6 }));
