import { expect, test } from "bun:test";
import { formatBytes, formatMillis, formatSeconds } from "../../src/util/duration.ts";

test("one duration format, from seconds or milliseconds", () => {
  expect(formatSeconds(0)).toBe("0s");
  expect(formatSeconds(4.24)).toBe("4.2s");
  expect(formatSeconds(9.96)).toBe("10s");
  expect(formatSeconds(45)).toBe("45s");
  expect(formatSeconds(61)).toBe("1m 1s");
  expect(formatSeconds(5 * 3600 + 60)).toBe("5h 1m");
  expect(formatSeconds(47 * 3600)).toBe("47h 0m");
  expect(formatSeconds(2 * 86400 + 3600)).toBe("2d 1h");
  expect(formatMillis(61_000)).toBe(formatSeconds(61));
  expect(formatMillis(2_500)).toBe("2.5s");
});

test("durations that are not numbers say unknown", () => {
  expect(formatSeconds(Number.NaN)).toBe("unknown");
  expect(formatSeconds(-1)).toBe("unknown");
  expect(formatSeconds(Number.POSITIVE_INFINITY)).toBe("unknown");
});

test("byte counts", () => {
  expect(formatBytes(512)).toBe("512 bytes");
  expect(formatBytes(1536)).toBe("1.5 KiB");
  expect(formatBytes(3 * 1024 ** 3)).toBe("3.0 GiB");
});
