import { describe, expect, test } from "bun:test";
import { formatCoverage, formatReport, formatSubject, type ReportEvent, safeHost } from "../../src/report/format.ts";
import { safeLines } from "../../src/util/escape.ts";

const T0 = 1_700_000_000_000;
let nextId = 1;
function ev(over: Partial<ReportEvent>): ReportEvent {
  return { id: nextId++, time: T0, channel: "file", kind: "changed", urgent: 0, subject: "/etc/x", section: "", text: "x", ...over };
}
const base = { host: "web1", version: "9.9.9", now: T0 };

describe("subject", () => {
  test("fixed shape with counts", () => {
    const events = [ev({}), ev({ channel: "log", section: "System Events" }), ev({ channel: "log", section: "System Events" }), ev({ channel: "pid", kind: "died" })];
    expect(formatReport({ ...base, events }).subject).toBe("Process alert: 1 processes died, 1 changed file, 2 log lines on web1".replace("1 processes died", "1 process died"));
  });

  test("SECURITY ALERT prefix when cracking lines are present", () => {
    const events = [ev({ channel: "log", kind: "alert", section: "Security Alerts", text: "sshd: cracking" })];
    expect(formatReport({ ...base, events }).subject).toBe("SECURITY ALERT: 1 cracking line on web1");
    const violations = [ev({ channel: "log", kind: "violation", section: "Security Events" }), ev({ channel: "log", kind: "violation", section: "Security Events" })];
    expect(formatReport({ ...base, events: violations }).subject).toBe("Security events: 2 security events on web1");
    const files = [ev({}), ev({}), ev({ kind: "new" }), ev({ kind: "baseline" })];
    expect(formatReport({ ...base, events: files }).subject).toBe("integrityd: 2 changed files, 1 new file, 1 file notice on web1");
  });

  test("no header injection: hostile host and event text never reach the subject", () => {
    const hostile = "evil\r\nBcc: victim@example.com\r\n\r\nbody";
    const events = [ev({ subject: hostile, text: hostile, section: hostile, kind: hostile }), ev({ channel: "log", subject: hostile, text: hostile, section: hostile })];
    const r = formatReport({ ...base, host: "h\r\nX-Injected: 1", events });
    expect(r.subject).toMatch(/^[A-Za-z ]+: [0-9a-z, ]+ on [A-Za-z0-9._-]+$/);
    expect(r.subject).not.toContain("\n");
    expect(r.subject).not.toContain("\r");
    expect(r.subject).not.toContain("Bcc");
    expect(r.text).not.toContain("\r");
    expect(r.text.split("\n")).not.toContain("Bcc: victim@example.com");
    expect(safeHost("a b\r\nc")).toBe("abc");
    expect(safeHost("\r\n")).toBe("localhost");
    expect(formatSubject("x", { alerts: NaN, violations: -1, deaths: 0, changed: 0, new: 0, deleted: 0, otherFile: 0, otherLog: 0, otherPid: 2.7 })).toBe("integrityd: 2 process events on x");
  });
});

describe("body", () => {
  test("channels and sections in a stable order, logcheck titles, grouped by section then file, in log order", () => {
    const events = [
      ev({ channel: "file", kind: "new", subject: "/etc/new", text: "new: /etc/new", time: T0 + 5 }),
      ev({ channel: "log", kind: "system", section: "System Events", subject: "/var/log/syslog", text: "sys 1" }),
      ev({ channel: "file", kind: "changed", subject: "/etc/passwd", text: "changed: /etc/passwd", time: T0 + 9 }),
      ev({ channel: "log", kind: "alert", section: "Security Alerts", subject: "/var/log/auth.log", text: "alert 1" }),
      ev({ channel: "log", kind: "system", section: "System Events", subject: "/var/log/auth.log", text: "sys 2" }),
      ev({ channel: "pid", kind: "died", subject: "/run/sshd.pid", text: "sshd died", time: T0 + 3 }),
      ev({ channel: "log", kind: "system", section: "System Events", subject: "/var/log/syslog", text: "sys 3" }),
      ev({ channel: "log", kind: "violation", section: "Security Events", subject: "/var/log/auth.log", text: "viol 1" }),
      ev({ channel: "file", kind: "changed", subject: "/etc/group", text: "changed: /etc/group", time: T0 + 1 }),
      ev({ channel: "log", kind: "notice", section: "Odd Section", subject: "/var/log/x", text: "odd" }),
      ev({ channel: "log", kind: "alert", section: "Security Alerts for sshd", subject: "/var/log/auth.log", text: "alert sshd" }),
    ];
    const { text } = formatReport({ ...base, events });
    const lines = text.split("\n");
    const idx = (s: string) => {
      const i = lines.indexOf(s);
      expect(i).toBeGreaterThanOrEqual(0);
      return i;
    };
    const order = [
      "Security Alerts (1)", "/var/log/auth.log:", "alert 1",
      "Security Alerts for sshd (1)", "alert sshd",
      "Security Events (1)", "viol 1",
      "System Events (3)", "sys 1", "sys 3", "sys 2",
      "Odd Section (1)", "odd",
      "Process Events (1)",
      "Changed Files (2)", "New Files (1)",
    ];
    const positions = order.map((s) => (s.startsWith("/") || s.includes("(") ? idx(s) : lines.findIndex((l) => l === s || l.endsWith(` ${s}`))));
    for (let i = 1; i < positions.length; i++) expect(positions[i]).toBeGreaterThan(positions[i - 1]);
    // underline: =-=- of the title's length
    const t = idx("Security Alerts (1)");
    expect(lines[t + 1]).toBe("=-=-=-=-=-=-=-=-=-=");
    expect(lines[t + 1].length).toBe("Security Alerts (1)".length);
    // log lines are grouped by file inside a section: syslog lines together
    const sys = idx("System Events (3)");
    expect(lines.slice(sys + 2, sys + 9).filter((l) => l !== "")).toEqual(["/var/log/syslog:", "  sys 1", "  sys 3", "/var/log/auth.log:", "  sys 2"]);
    // file events chronological within a kind
    const changed = lines.findIndex((l) => l.endsWith("changed: /etc/group"));
    expect(lines.findIndex((l) => l.endsWith("changed: /etc/passwd"))).toBeGreaterThan(changed);
    // same input, same output (stable)
    expect(formatReport({ ...base, events: [...events].reverse() }).text).toBe(text);
  });

  test("footer: host, version, coverage", () => {
    const { text } = formatReport({ ...base, events: [ev({})], coverage: { coverage: 0.425, oldestCheckAgeSec: 7320, speed: 1.5, entries: 74000, cycleSeconds: 74000, waiting: 3 } });
    expect(text).toContain("\n-- \nintegrityd 9.9.9 on web1\n");
    expect(text).toContain("Files: every file is re-checked about every 20h 33m at the current rates (74000 entries); the oldest check was 2h 2m ago; 42.5% of this cycle done; checking 1.5 times faster after a change.\n3 more events are waiting for a later mail.");
    expect(formatCoverage(undefined)).toBe("Files: the age of the oldest check is not known yet.");
    expect(formatCoverage({ coverage: 1, speed: 1 })).toBe("Files: the age of the oldest check is not known yet; 100.0% of this cycle done.");
  });

  test("line limit says how many lines were left out", () => {
    const events = Array.from({ length: 30 }, (_, i) => ev({ channel: "log", section: "System Events", subject: "/l", text: `line ${i}\nsecond ${i}` }));
    const r = formatReport({ ...base, events, lineLimit: 25 });
    expect(r.omitted).toBe(35);
    expect(r.text).toContain("[35 lines left out: this report is limited to 25 lines;");
    expect(r.text).toContain("\n  line 12\n");
    expect(r.text).not.toContain("line 13");
    expect(r.subject).toContain("30 log lines");
  });

  test("defensive: no bare CR, control characters escaped, lone dot and 10,000-char lines intact", () => {
    const long = "A".repeat(10_000);
    const events = [ev({ channel: "log", section: "System Events", subject: "/l\r", text: `a\rb\u0000c\u001bd\u0085e\tf\n.\n${long}` })];
    const { text } = formatReport({ ...base, events });
    expect(text).not.toContain("\r");
    expect(text).toContain("\n  a\\x0db\\x00c\\x1bd\\x85e\tf\n  .\n  " + long + "\n");
    expect(text).toContain("/l\\x0d:");
    expect(safeLines("x\u2028y")).toEqual(["x\\u2028y"]);
  });
});

test("a log line that reads like a section title cannot pass for one: event lines are indented", () => {
  const events = [{ id: 1, time: 0, channel: "log" as const, kind: "system", urgent: 0, subject: "/var/log/syslog", section: "System Events", text: "Security Alerts (1)" }];
  const lines = formatReport({ ...base, events }).text.split("\n");
  expect(lines).toContain("  Security Alerts (1)");
  expect(lines).not.toContain("Security Alerts (1)");
  expect(lines).toContain("System Events (1)");
});
