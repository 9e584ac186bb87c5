// The engine's own pure parts (its visits are exercised through trickle.test.ts and full.test.ts).
import { describe, expect, test } from "bun:test";
import { pathFrom } from "../../src/scan/paths.ts";
import { normalizeAreas } from "../../src/scan/scanner.ts";

const str = (p: Uint8Array) => Buffer.from(p).toString("latin1");

describe("areas", () => {
  test("nested areas are merged", () => {
    expect(normalizeAreas(["/etc/ssh", "/etc", "/usr/bin", "/etc"]).map(str)).toEqual(["/etc", "/usr/bin"]);
  });
  test("the root holds every other area", () => {
    expect(normalizeAreas(["/usr", "/", "/etc"]).map(str)).toEqual(["/"]);
    expect(normalizeAreas([]).map(str)).toEqual([]);
    expect(pathFrom("/")).toEqual(normalizeAreas(["/"])[0]);
  });
});
