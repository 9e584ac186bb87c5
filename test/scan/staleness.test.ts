// How long a cycle should take, and when it runs behind.
import { expect, test } from "bun:test";
import { BEHIND_FACTOR, expectedCycleMs, isBehind } from "../../src/scan/staleness.ts";

test("the longer of the traversal at filerate and the big files at byterate, both times the speed", () => {
  expect(expectedCycleMs({ entries: 74_000, bigBytes: 0, filerate: 1, byterate: 262144, speed: 1 })).toBe(74_000_000);
  expect(expectedCycleMs({ entries: 10, bigBytes: 262144 * 100, filerate: 1, byterate: 262144, speed: 1 })).toBe(100_000);
  expect(expectedCycleMs({ entries: 100, bigBytes: 0, filerate: 1, byterate: 1, speed: 20 })).toBe(5000);
  expect(expectedCycleMs({ entries: 100, bigBytes: 0, filerate: 0, byterate: 1, speed: 1 })).toBeNull();
});

test(`behind: more than ${BEHIND_FACTOR} times the expected time`, () => {
  expect(isBehind(1200, 1000)).toBe(false);
  expect(isBehind(1201, 1000)).toBe(true);
  expect(isBehind(5000, null)).toBe(false);
  expect(isBehind(5000, 0)).toBe(false);
});
