import { expect, test } from "bun:test";
import { closest, editDistance } from "../../src/util/spelling.ts";

test("edit distance, capped", () => {
  expect(editDistance("emial", "email", 9)).toBe(2);
  expect(editDistance("byterat", "byterate", 9)).toBe(1);
  expect(editDistance("a", "abcdef", 3)).toBe(3);
});

test("the closest candidate within the bound, or none", () => {
  expect(closest("filrate", ["byterate", "filerate", "speedup"], 2)).toBe("filerate");
  expect(closest("frobnicate", ["byterate", "filerate"], 2)).toBeNull();
});
