import { expect, test } from "bun:test";
import { fstatSync } from "node:fs";
import { diagText, stderrIsJournal } from "../../src/util/log.ts";

test("plain stderr: level prefix, continuation lines indented", () => {
  expect(diagText("error", "one\ntwo", false)).toBe("error: one\n  two\n");
});

test("the journal: every line carries its syslog priority, so journalctl -p err finds errors", () => {
  expect(diagText("error", "one\ntwo", true)).toBe("<3>error: one\n<3>  two\n");
  expect(diagText("warning", "w", true)).toBe("<4>warning: w\n");
  expect(diagText("info", "i", true)).toBe("<6>info: i\n");
});

test("the journal is recognised only when JOURNAL_STREAM names fd 2 itself", () => {
  const st = fstatSync(2);
  expect(stderrIsJournal({ JOURNAL_STREAM: `${st.dev}:${st.ino}` })).toBe(true);
  expect(stderrIsJournal({ JOURNAL_STREAM: `${st.dev}:${Number(st.ino) + 1}` })).toBe(false);
  expect(stderrIsJournal({})).toBe(false);
  expect(stderrIsJournal({ JOURNAL_STREAM: "garbage" })).toBe(false);
});
