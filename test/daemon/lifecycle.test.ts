import { expect, test } from "bun:test";
import { stopNotice, uncleanStartNotice } from "../../src/daemon/lifecycle.ts";

const T = Date.UTC(2026, 0, 1);

test("no notice on a first start or after a clean stop", () => {
  expect(uncleanStartNotice({}, T)).toBeNull();
  expect(uncleanStartNotice({ started: T - 60_000, stopped: T - 1000 }, T)).toBeNull();
});

test("a start after a run with no stop record is an unclean end", () => {
  expect(uncleanStartNotice({ started: T - 3_600_000 }, T)).toContain("unclean end: the run started 2025-12-31T23:00:00.000Z (1h 0m ago)");
  expect(uncleanStartNotice({ started: T - 60_000, stopped: T - 120_000 }, T)).toContain("left no stop record");
});

test("the stop notice names the signal and how long the daemon ran", () => {
  expect(stopNotice("SIGTERM", T - 90_000, T)).toBe("integrityd stopping: SIGTERM received after 1m 30s of running (the sender of a signal is not known to integrityd). Nothing is watched until it starts again.");
});
