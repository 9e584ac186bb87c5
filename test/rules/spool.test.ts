// spool.ts: the streamed report is byte for byte ReportBuilder's text, its
// memory is bounded by design (each section holds at most its buffer, the rest
// is on disk), and its spill files are gone afterwards.

import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { rng } from "../../bench/support/gen.ts";
import type { Placement, Verdict } from "../../src/rules/layers.ts";
import { ReportBuilder } from "../../src/rules/report.ts";
import { SpooledReport } from "../../src/rules/spool.ts";

const ORDER = ["Security Alerts for sshd", "Security Events for sudo", "System Events"];
const P: Placement[] = [
  { kind: "alert", section: ORDER[0] },
  { kind: "violation", section: ORDER[1] },
  { kind: "system", section: ORDER[2] },
];

function verdictOf(x: number): Verdict {
  if (x < 0.3) return [];
  if (x < 0.4) return [P[0], P[1]];
  if (x < 0.5) return [P[0]];
  if (x < 0.6) return [P[1]];
  return [P[2]];
}

function both(lines: string[], verdicts: Verdict[], bufferBytes: number): { spooled: string; built: string; rep: SpooledReport } {
  const rep = new SpooledReport(ORDER, bufferBytes);
  const ref = new ReportBuilder(ORDER);
  for (let i = 0; i < lines.length; i++) {
    rep.add(lines[i], verdicts[i]);
    ref.add(lines[i], verdicts[i]);
  }
  let spooled = "";
  rep.finish((s) => { spooled += s; });
  return { spooled, built: ref.format(), rep };
}

test("the streamed report is ReportBuilder's text, spilled or not (trailing blanks stripped, latin1 bytes kept)", () => {
  const r = rng(11);
  const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} \xe9\xff${"x".repeat(Math.floor(r() * 90))}${i % 7 === 0 ? " \t\r" : ""}`);
  const verdicts = lines.map(() => verdictOf(r()));
  for (const buf of [1, 100, 4096, 1 << 20]) {
    const { spooled, built, rep } = both(lines, verdicts, buf);
    expect(spooled).toBe(built);
    expect(rep.spilled > 0).toBe(buf < 100_000);
  }
  expect(both([], [], 10).spooled).toBe("");
});

test("memory is bounded by design: 200,000 lines, no section ever holds more than its buffer and one line", () => {
  const BUF = 8192;
  const rep = new SpooledReport(ORDER, BUF);
  const r = rng(5);
  let longest = 0;
  let count = 0;
  for (let i = 0; i < 200_000; i++) {
    const line = `Nov 30 06:00:00 host prog[${i}]: ${"y".repeat(Math.floor(r() * 120))}`;
    longest = Math.max(longest, line.length + 1);
    const v = verdictOf(r());
    if (v.length > 0) count++;
    rep.add(line, v);
    expect(rep.maxBuffered).toBeLessThan(BUF + longest);
  }
  expect(count).toBeGreaterThan(100_000);
  expect(rep.spilled).toBe(3);
  const dir = (rep as unknown as { dir: string }).dir;
  expect(existsSync(dir)).toBe(true);
  let bytes = 0;
  let biggest = 0;
  rep.finish((s) => { bytes += s.length; biggest = Math.max(biggest, s.length); });
  expect(bytes).toBeGreaterThan(10_000_000);
  expect(biggest).toBeLessThanOrEqual(256 * 1024); // written in bounded chunks too
  expect(existsSync(dir)).toBe(false); // spill files removed
});
