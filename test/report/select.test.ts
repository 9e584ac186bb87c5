import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { FloodSampler, groupsWhere, reportGroupKey } from "../../src/report/select.ts";

test("the sampler keeps the first and last N of each group and says how many lie between", () => {
  const s = new FloodSampler(2);
  for (let id = 1; id <= 10; id++) s.add(id, id % 2 ? "odd" : "even");
  s.add(11, "lone");
  expect(s.total).toBe(11);
  const shown = s.shown();
  expect([...shown.keys()].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 7, 8, 9, 10, 11]);
  expect(shown.get(7)).toBe(1); // 5 left out before it
  expect(shown.get(8)).toBe(1); // 6 left out before it
  expect(shown.get(9)).toBe(0);
  expect(shown.get(11)).toBe(0);
});

test("a group with fewer than 2N events is shown whole", () => {
  const s = new FloodSampler(3);
  for (let id = 1; id <= 5; id++) s.add(id, "k");
  expect([...s.shown().entries()]).toEqual([[1, 0], [2, 0], [3, 0], [4, 0], [5, 0]]);
});

test("hostile keys cannot grow memory: past the key limit they share one bucket", () => {
  const s = new FloodSampler(1);
  for (let id = 1; id <= 100_000; id++) s.add(id, `key${id}`);
  expect(s.total).toBe(100_000);
  expect(s.shown().size).toBeLessThanOrEqual(2 * 501);
});

test("report groups as the mail shows them", () => {
  expect(reportGroupKey({ channel: "log", kind: "alert", section: "Security Alerts", subject: "/var/log/auth.log" })).toBe("log\0Security Alerts\0/var/log/auth.log");
  expect(reportGroupKey({ channel: "file", kind: "changed", section: "", subject: "/etc/a" })).toBe(reportGroupKey({ channel: "file", kind: "changed", section: "", subject: "/etc/b" }));
  expect(groupsWhere(["urgent"]).sql).toBe("mailed IS NULL AND urgent = 1");
});

test("each group takes its own events; urgent ones always ride along", () => {
  const db = new Database(":memory:");
  db.exec("CREATE TABLE events (id INTEGER PRIMARY KEY, channel TEXT, kind TEXT, urgent INTEGER, mailed INTEGER)");
  const rows: [string, string, number][] = [["file", "changed", 0], ["log", "system", 0], ["log", "violation", 0], ["pid", "zombie", 0], ["log", "alert", 1], ["pid", "died", 1]];
  for (const [c, k, u] of rows) db.query("INSERT INTO events (channel, kind, urgent) VALUES (?, ?, ?)").run(c, k, u);
  const ids = (groups: Parameters<typeof groupsWhere>[0]) => {
    const w = groupsWhere(groups);
    return (db.query(`SELECT id FROM events WHERE ${w.sql} ORDER BY id`).all(...w.args) as { id: number }[]).map((r) => r.id);
  };
  expect(ids(["urgent"])).toEqual([5, 6]);
  expect(ids(["file"])).toEqual([1, 5, 6]);
  expect(ids(["log"])).toEqual([2, 4, 5, 6]);
  expect(ids(["violation"])).toEqual([3, 5, 6]);
  expect(ids(["file", "log", "violation"])).toEqual([1, 2, 3, 4, 5, 6]);
});
