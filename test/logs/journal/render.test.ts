// The rsyslog line of an entry (pure): time in the local zone, host, tag and
// PID from the right fields, control characters as #ooo, bytes kept.
import { expect, test } from "bun:test";
import { ExportParser } from "../../../src/logs/journal/export.ts";
import { renderLine, syslogStamp } from "../../../src/logs/journal/render.ts";
import { entry, exportBytes, type Entry } from "../../support/journal.ts";

const parse = (e: Entry) => new ExportParser().push(exportBytes([e]))[0];
const us = (d: Date) => d.getTime() * 1000;

test("the stamp: 'Mon DD HH:MM:SS' in the local zone, the day padded with a blank", () => {
  expect(syslogStamp(new Date(2026, 10, 3, 4, 5, 6).getTime())).toBe("Nov  3 04:05:06");
  expect(syslogStamp(new Date(2026, 0, 23, 14, 15, 16, 999).getTime())).toBe("Jan 23 14:15:16");
});

test("identifier, PID, host and message make the line; fall-backs when fields are missing", () => {
  const t = us(new Date(2026, 10, 3, 4, 5, 6));
  expect(renderLine(parse(entry("Accepted password for root", t, { SYSLOG_PID: "77" })), "local")).toBe("Nov  3 04:05:06 testhost sshd[77]: Accepted password for root");
  expect(renderLine(parse(entry("x", t)), "local")).toBe("Nov  3 04:05:06 testhost sshd[4242]: x");
  const bare: Entry = { __REALTIME_TIMESTAMP: String(t), MESSAGE: " leading blank", _COMM: "cron" };
  expect(renderLine(parse(bare), "local")).toBe("Nov  3 04:05:06 local cron: leading blank");
  expect(renderLine(parse({ __REALTIME_TIMESTAMP: String(t), MESSAGE: "m" }), "h")).toBe("Nov  3 04:05:06 h journal: m");
});

test("control characters become #ooo (one line), a trailing newline is dropped, other bytes stay", () => {
  const t = us(new Date(2026, 10, 3, 4, 5, 6));
  const msg = Buffer.concat([Buffer.from("a\nb\tc\x7f "), Buffer.from([0xff, 0xc3, 0x28]), Buffer.from("\n")]);
  const line = renderLine(parse(entry(msg, t, { SYSLOG_IDENTIFIER: "evil\nid" })), "h");
  expect(line).toBe(`Nov  3 04:05:06 testhost evil#012id[4242]: a#012b#011c\x7f \xff\xc3(`);
});
