// Pacing and the speed factor, with a fake clock (pure arithmetic on times passed in).
import { describe, expect, test } from "bun:test";
import { Gate, Pacer, effectiveSpeed, speedOnChange, speedOnCycleEnd, type SpeedState } from "../../src/scan/pace.ts";

/** Drive a pacer with a fake clock: each operation waits what the pacer says, then takes `work` ms. */
function simulate(p: Pacer, n: number, work = 0, start = 1_000_000): number[] {
  let now = start;
  const starts: number[] = [];
  for (let i = 0; i < n; i++) {
    now += p.entryWait(now);
    starts.push(now);
    now += work;
  }
  return starts;
}

const RATES = { filerate: 2, byterate: 1 << 20, smallfiles: 131072, speedup: 20 };

describe("pacing (fake clock)", () => {
  test("filerate entries per second", () => {
    const p = new Pacer(RATES);
    const s = simulate(p, 101);
    expect(s[100] - s[0]).toBe(50_000); // 100 intervals of 500 ms
  });
  test("speed factor multiplies the rate", () => {
    const p = new Pacer(RATES);
    p.speed = 20;
    const s = simulate(p, 101);
    expect(s[100] - s[0]).toBe(2_500);
  });
  test("no catch-up burst after falling behind", () => {
    const p = new Pacer(RATES);
    let now = 0;
    now += p.entryWait(now); // entry 1 at 0
    now += 60_000; // a minute-long stall (slow disk, huge file, suspend)
    const starts: number[] = [];
    for (let i = 0; i < 10; i++) {
      now += p.entryWait(now);
      starts.push(now);
    }
    // after the stall, entries go on at the normal spacing: no burst
    for (let i = 1; i < starts.length; i++) expect(starts[i] - starts[i - 1]).toBe(500);
    expect(starts[0]).toBe(60_000);
  });
  test("timer jitter within one interval is absorbed, so the long-run rate stays exact", () => {
    const g = new Gate(250);
    let now = 0;
    let done = 0;
    for (let i = 0; i < 1000; i++) {
      now += g.reserve(now, 62.5) + 2; // every timer fires 2 ms late
      done++;
    }
    // without absorbing the lateness the rate would be 3% low
    expect(Math.abs(now - 1000 * 62.5) / (1000 * 62.5)).toBeLessThan(0.01);
    expect(done).toBe(1000);
  });
  test("large files are read at byterate in chunks; small ones in one go", () => {
    const p = new Pacer({ ...RATES, byterate: 1 << 20 });
    expect(p.isSmall(131072)).toBe(true);
    expect(p.isSmall(131073)).toBe(false);
    const chunk = p.chunkSize();
    expect(chunk).toBe(65536);
    let now = 0;
    const size = 8 << 20;
    for (let read = 0; read < size; read += chunk) now += p.bytesWait(now, chunk);
    // 8 MiB at 1 MiB/s: the last chunk starts 8 s minus one chunk after the first
    expect(now).toBe(8000 - 62.5);
    p.speed = 4;
    expect(p.chunkSize()).toBe(262144);
  });
  test("unlimited (scan-once) never waits", () => {
    const p = new Pacer(RATES, { unlimited: true });
    expect(simulate(p, 50).at(-1)).toBe(1_000_000);
    expect(p.bytesWait(0, 1 << 30)).toBe(0);
    expect(p.isSmall(1 << 30)).toBe(true);
  });
  test("speedup after a change, back to 1 after one full clean cycle", () => {
    let s: SpeedState = { speed: 20, cycleChanges: 0, firstPassComplete: false };
    expect(effectiveSpeed(s, 20)).toBe(20); // first pass runs sped up
    s = speedOnCycleEnd(s, 20); // clean first pass
    expect(s.speed).toBe(1);
    expect(s.firstPassComplete).toBe(true);
    s = speedOnChange(s, 20); // change found in cycle k
    expect(s.speed).toBe(20);
    s = speedOnChange(s, 20);
    s = speedOnCycleEnd(s, 20); // end of cycle k: it had changes, stay fast
    expect(s.speed).toBe(20);
    s = speedOnCycleEnd(s, 20); // end of cycle k+1: clean
    expect(s.speed).toBe(1);
    expect(effectiveSpeed({ speed: 20, cycleChanges: 0, firstPassComplete: true }, 5)).toBe(5); // speedup lowered by reload
  });
  test("rate change on reload takes effect at once", () => {
    const p = new Pacer(RATES);
    simulate(p, 3);
    p.setRates({ ...RATES, filerate: 10 });
    const s = simulate(p, 11, 0, 2_000_000);
    expect(s[10] - s[0]).toBe(1000);
  });
});
