// RFC 5424 messages (report/rfc5424.ts): header, structured data escaping,
// the bound on a message's size, and the sink's cursor when the socket is
// missing. The real receivers are in rsyslog.test.ts.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { EventRow } from "../../src/db/events.ts";
import { enqueue } from "../../src/db/events.ts";
import { MAX_5424, rfc5424Message, SD_ID } from "../../src/report/rfc5424.ts";
import { getCursor, syslogLine, syslogSink } from "../../src/report/sinks.ts";
import { parse5424 } from "../support/rsyslog.ts";
import { tempDb, tempDir } from "./helpers.ts";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const row = (over: Partial<EventRow>): EventRow => ({
  id: 7, time: Date.UTC(2026, 10, 30, 8, 0, 0, 5), channel: "file", kind: "changed", urgent: 0, subject: "/etc/x",
  section: "", text: "Changed: /etc/x", details: JSON.stringify({ path: "/etc/x" }), mailed: null, ...over,
});
const msg = (r: EventRow, facility = "authpriv", host = "web1") => rfc5424Message(r, { host, facility, procid: 42, line: syslogLine(r) });

test("header: PRI from facility and level, version 1, UTC time, host, app, procid, msgid", () => {
  expect(msg(row({}))).toStartWith(`<85>1 2026-11-30T08:00:00.005Z web1 integrityd 42 changed [${SD_ID} integrityd.schema_version="1" event.id="7" event.action="changed" event.kind="alert" host.name="web1" `);
  expect(msg(row({ urgent: 1 }), "local3")).toStartWith("<153>1 "); // 19 × 8 + 1
  expect(msg(row({ kind: "error" }), "daemon")).toStartWith("<27>1 ");
  expect(msg(row({}), "authpriv", "a host")).toContain(" a_host integrityd ");
  expect(msg(row({ kind: "" }))).toContain(" integrityd 42 - [");
});

test("structured data: \" \\ ] escaped, hostile text cannot end the element or the message", () => {
  const evil = 'x"] [forged@1 a="b"]\\';
  const m = msg(row({ subject: evil, text: `Changed: ${evil}\n<13>1 forged line`, details: JSON.stringify({ path: evil }) }));
  expect(m).not.toContain("\n");
  const p = parse5424(m)!;
  expect(p).not.toBeNull();
  expect(new Map(p.params).get("file.path")).toBe(evil);
  expect(p.params.some(([n]) => n === "a")).toBe(false);
  expect(p.msg).toBe(`[file/changed] ${evil}: Changed: ${evil} | <13>1 forged line`);
  // a text another module found (a writer's process name) cannot break the line either
  const w = msg(row({ details: JSON.stringify({ path: "/etc/x", writer: { pid: 1, comm: "a\nb]\"c", exe: "/x" } }) }));
  expect(w).not.toMatch(/[\u0000-\u001f]/);
  expect(new Map(parse5424(w)!.params).get("process.name")).toBe('a\\nb]"c');
});

test("at most MAX_5424 bytes: long values cut, base64 left out, identity kept", () => {
  const long = `/${"é".repeat(3000)}\\xff`;
  const m = msg(row({ subject: long, text: `Changed: ${long}\n${"z".repeat(20_000)}`, details: JSON.stringify({ path: long }) }));
  expect(Buffer.byteLength(m)).toBeLessThanOrEqual(MAX_5424);
  const p = new Map(parse5424(m)!.params);
  expect(p.get("event.id")).toBe("7");
  expect(p.get("file.path")!.endsWith("...")).toBe(true);
  expect(Buffer.byteLength(p.get("file.path")!)).toBeLessThanOrEqual(1027);
  expect(p.has("integrityd.file.path_base64")).toBe(false);
  expect(m).not.toContain("\ufffd"); // no character split
});

test("rfc5424 sink: no socket there: it throws and the cursor stays", async () => {
  const dir = join(tmp.dir, "s");
  mkdirSync(dir);
  const db = tempDb(dir);
  enqueue(db, { channel: "file", kind: "new", subject: "/a", text: "New: /a" });
  const sink = syslogSink({ facility: "authpriv", socket: join(dir, "none.sock"), format: "rfc5424", host: "h" });
  await expect(sink.drain(db)).rejects.toThrow(/syslog .*none\.sock: ENOENT/);
  expect(getCursor(db, "syslog")).toBe(0);
  db.close();
});
