// The continuity check of a restart (pure): the stored entry itself proves
// continuity, earlier entries are dropped, the next number continues, and
// every other first entry is a discontinuity that says what was skipped.
import { expect, test } from "bun:test";
import { judgeResume, parseCursor } from "../../../src/logs/journal/cursor.ts";

const S = "5aa0f158ec3346cea9c93fb2ef971970";
const T = "16f47c2cb0fc4648b30173f5b752f7e5";
const cur = (s: string, i: number, t = 0x661792fe92a5f) => parseCursor(`s=${s};i=${i.toString(16)};b=0123456789abcdef0123456789abcdef;m=3e8;t=${t.toString(16)};x=97b4b4e94b105057`)!;

test("parseCursor reads s, i and t (hex); anything else is not a cursor", () => {
  expect(parseCursor(`s=${S};i=1f;b=0123456789abcdef0123456789abcdef;m=3e8;t=661792fe92a5f;x=1`)).toEqual({ s: S, i: 31, t: 0x661792fe92a5f });
  expect(parseCursor("garbage")).toBeNull();
  expect(parseCursor(`s=${S};i=zz`)).toBeNull();
  expect(parseCursor(`s=short;i=1`)).toBeNull();
});

test("the stored entry is the anchor; earlier ones were seen; the next one continues", () => {
  const stored = cur(S, 10);
  expect(judgeResume(stored, cur(S, 10), false).kind).toBe("anchor");
  expect(judgeResume(stored, cur(S, 9), false).kind).toBe("seen");
  expect(judgeResume(stored, cur(S, 11), false).kind).toBe("continues");
  expect(judgeResume(stored, cur(S, 11), true).kind).toBe("continues");
});

test("a later number of the same sequence: the entries between were skipped (counted; 'up to' with filters)", () => {
  const stored = cur(S, 0x10, 1_790_000_000_000_000);
  const j = judgeResume(stored, cur(S, 0x20, 1_790_000_060_000_000), false);
  expect(j.kind).toBe("gap");
  if (j.kind !== "gap") return;
  expect(j.skipped).toBe(15);
  expect(j.notice).toContain("15 entries");
  expect(j.notice).toContain("11..1f");
  expect(j.notice).toContain("vacuumed or rotated away");
  expect(j.notice).toContain("(1m");
  const f = judgeResume(stored, cur(S, 0x20), true);
  expect(f.kind === "gap" && f.skipped === null && f.notice.includes("up to 15 entries")).toBe(true);
});

test("another sequence: the journal was replaced; the notice gives the times between", () => {
  const j = judgeResume(cur(S, 5, 1_790_000_000_000_000), cur(T, 1, 1_790_000_100_000_000), false);
  expect(j.kind).toBe("gap");
  if (j.kind !== "gap") return;
  expect(j.notice).toContain(`sequence ${S} is gone, now ${T}`);
  expect(j.notice).toContain(new Date(1_790_000_000_000).toISOString());
  expect(j.notice).toContain(new Date(1_790_000_100_000).toISOString());
});
