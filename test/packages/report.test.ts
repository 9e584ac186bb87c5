// Package events in a report mail: mismatches at the top of the file events,
// the per-package summary lines in their own section.
import { expect, test } from "bun:test";
import { formatReport, type ReportEvent } from "../../src/report/format.ts";

test("urgent file events (mismatches) come before the other file sections; summaries under Package Changes", () => {
  const ev = (id: number, kind: string, urgent: number, text: string): ReportEvent => ({ id, time: 1_800_000_000_000 + id, channel: "file", kind, urgent, subject: "s", section: "", text });
  const r = formatReport({
    host: "h", version: "1", now: 1_800_000_100_000,
    events: [
      ev(1, "changed", 0, "Changed: /etc/motd"),
      ev(2, "package", 0, "coreutils 9.1-1 → 9.1-2: 105 files, content verified against http://deb.debian.org/debian bookworm (key 6ED0E7B82643E131)"),
      ev(3, "changed", 1, "Changed: /usr/sbin/sshd\n  PACKAGE MISMATCH: owned by openssh-server 1:9.2p1-2"),
    ],
  }).text;
  const at = (s: string) => r.indexOf(s);
  expect(at("Urgent File Events (1)")).toBeGreaterThan(-1);
  expect(at("Urgent File Events (1)")).toBeLessThan(at("Changed Files (1)"));
  expect(at("PACKAGE MISMATCH")).toBeLessThan(at("Changed: /etc/motd"));
  expect(at("Package Changes (1)")).toBeGreaterThan(at("Changed Files (1)"));
});
