// Cycle bookkeeping in the meta table: begin, count, flush, speed, end.
import { afterEach, describe, expect, test } from "bun:test";
import { getMeta, openDatabase } from "../../src/db/db.ts";
import { CycleBook, META } from "../../src/scan/cycle.ts";
import { Pacer } from "../../src/scan/pace.ts";
import { makeEnv, type Env } from "./helpers.ts";

let env: Env;
afterEach(() => env?.cleanup());
const RATES = { filerate: 1, byterate: 1 << 20, smallfiles: 1 << 16, speedup: 8 };

describe("CycleBook", () => {
  test("a fresh database: the first pass runs at speedup; begin writes the cycle keys once", () => {
    env = makeEnv();
    const db = openDatabase(env.config.database);
    const pacer = new Pacer(RATES);
    const c = new CycleBook(db, pacer, 8);
    expect(c.number).toBe(0);
    expect(pacer.speed).toBe(8);
    c.begin(1000);
    expect(c.number).toBe(1);
    expect(getMeta(db, META.cycle)).toBe("1");
    expect(getMeta(db, META.cycleStart)).toBe("1000");
    expect(getMeta(db, META.firstPassStart)).toBe("1000");
    expect(getMeta(db, META.firstPassComplete)).toBe("0");
    c.begin(2000); // the first pass's start stays
    expect(getMeta(db, META.firstPassStart)).toBe("1000");
    db.close();
  });

  test("counters are flushed at most once a second; the end reports the first pass once and writes the last cycle's figures", () => {
    env = makeEnv();
    const db = openDatabase(env.config.database);
    const pacer = new Pacer(RATES);
    const c = new CycleBook(db, pacer, 8);
    c.begin(10_000);
    c.count(100);
    c.count(0);
    c.flushSoon(10_500);
    expect(getMeta(db, META.checked)).toBe("0");
    c.flushSoon(11_000);
    expect(getMeta(db, META.checked)).toBe("2");
    expect(getMeta(db, META.bytes)).toBe("100");
    expect(c.end(70_000, 2)).toEqual({ firstPassMs: 60_000 });
    expect(getMeta(db, META.lastCycleDuration)).toBe("60000");
    expect(getMeta(db, META.lastCycleChecked)).toBe("2");
    expect(getMeta(db, META.lastCycleEntries)).toBe("2");
    expect(getMeta(db, META.firstPassComplete)).toBe("1");
    expect(pacer.speed).toBe(1); // a clean first pass: back to 1
    c.begin(70_000);
    c.noteChange(71_000);
    expect(pacer.speed).toBe(8);
    expect(getMeta(db, META.lastChange)).toBe("71000");
    expect(getMeta(db, META.cycleChanges)).toBe("1");
    expect(c.end(80_000, 2)).toEqual({ firstPassMs: null });
    // a restart reads the state back
    const again = new CycleBook(db, new Pacer(RATES), 8);
    expect(again.number).toBe(2);
    expect(again.firstPassComplete).toBe(true);
    db.close();
  });
});
