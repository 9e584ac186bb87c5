import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { enqueue } from "../../src/db/events.ts";
import { getCursor, jsonlogSink, syslogSink } from "../../src/report/sinks.ts";
import { tempDb, tempDir, until } from "./helpers.ts";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const HOSTILE = "evil\r\nFAKE: injected\u0000\u001b[31m\u2028end";

describe("jsonlog", () => {
  test("append-only file, mode 0600, one JSON object per event, cursor after the write", async () => {
    const dir = join(tmp.dir, "j1");
    mkdirSync(dir);
    const db = tempDb(dir);
    const path = join(dir, "events.jsonl");
    const sink = jsonlogSink(path, "web1");
    const t = Date.UTC(2024, 4, 1, 12, 0, 0);
    enqueue(db, { channel: "file", kind: "changed", subject: "/etc/passwd", text: "changed: /etc/passwd", time: t, details: { size: [1, 2] } });
    enqueue(db, { channel: "log", kind: "alert", subject: "/var/log/auth.log", section: "Security Alerts", text: HOSTILE, urgent: true, time: t + 1 });
    expect(await sink.drain(db)).toBe(2);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const lines = readFileSync(path, "utf8").split("\n");
    expect(lines.length).toBe(3);
    expect(lines[2]).toBe("");
    // the event schema (report/ecs.ts): each fact of the row in its field
    const first = JSON.parse(lines[0]);
    expect(first["@timestamp"]).toBe("2024-05-01T12:00:00.000Z");
    expect(first.event.id).toBe("1");
    expect(first.host).toEqual({ name: "web1" });
    expect(first.message).toBe("changed: /etc/passwd");
    expect(first.file.path).toBe("/etc/passwd");
    expect(first.integrityd).toEqual({
      schema_version: 1, channel: "file", kind: "changed", urgent: false, subject: "/etc/passwd",
      details: JSON.stringify({ size: [1, 2] }),
    });
    const second = JSON.parse(lines[1]);
    expect(second.message).toBe(HOSTILE); // JSON escapes it; the line holds no raw control character
    expect(lines[1]).not.toMatch(/[\u0000-\u001f]/);
    expect(second.integrityd.urgent).toBe(true);
    expect(second.integrityd.section).toBe("Security Alerts");
    expect(getCursor(db, "jsonlog")).toBe(2);
    // nothing new: nothing written
    expect(await sink.drain(db)).toBe(0);
    enqueue(db, { channel: "pid", kind: "died", subject: "/run/x.pid", text: "x died" });
    expect(await sink.drain(db)).toBe(1);
    expect(readFileSync(path, "utf8").split("\n").length).toBe(4);
    // rotation: the path is renamed away, the sink reopens a new 0600 file
    renameSync(path, `${path}.1`);
    enqueue(db, { channel: "pid", kind: "died", subject: "/run/y.pid", text: "y died" });
    expect(await sink.drain(db)).toBe(1);
    expect(JSON.parse(readFileSync(path, "utf8")).integrityd.subject).toBe("/run/y.pid");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    // a new sink on the same database continues at the cursor (restart)
    sink.close();
    const again = jsonlogSink(path, "web1");
    expect(await again.drain(db)).toBe(0);
    again.close();
    db.close();
  });

  test("a torn last line is terminated before the next object", async () => {
    const dir = join(tmp.dir, "j2");
    mkdirSync(dir);
    const db = tempDb(dir);
    const path = join(dir, "events.jsonl");
    writeFileSync(path, '{"time":"2024-', { mode: 0o600 });
    enqueue(db, { channel: "file", kind: "new", subject: "/a", text: "new: /a" });
    const sink = jsonlogSink(path, "h");
    expect(await sink.drain(db)).toBe(1);
    const lines = readFileSync(path, "utf8").split("\n");
    expect(lines[0]).toBe('{"time":"2024-');
    expect(JSON.parse(lines[1]).integrityd.subject).toBe("/a");
    sink.close();
    db.close();
  });

  test("symlinks and FIFOs are refused; the cursor stays", async () => {
    const dir = join(tmp.dir, "j3");
    mkdirSync(dir);
    const db = tempDb(dir);
    enqueue(db, { channel: "file", kind: "new", subject: "/a", text: "new: /a" });
    const target = join(dir, "target");
    const link = join(dir, "link.jsonl");
    symlinkSync(target, link);
    const s1 = jsonlogSink(link, "h");
    await expect(s1.drain(db)).rejects.toThrow(/jsonlog/);
    expect(existsSync(target)).toBe(false);
    const fifo = join(dir, "fifo");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    const s2 = jsonlogSink(fifo, "h");
    await expect(s2.drain(db)).rejects.toThrow(/jsonlog/); // neither blocks nor writes
    expect(getCursor(db, "jsonlog")).toBe(0);
    db.close();
  });
});

// A unix datagram receiver (python3) that appends every datagram as one line to a file.
const RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], "ab", buffering=0)
while True:
    d = s.recv(65536)
    out.write(d.replace(b"\\n", b"<LF>") + b"\\n")
`;

function startReceiver(sock: string, out: string) {
  writeFileSync(out, "");
  const p = Bun.spawn(["python3", "-c", RECEIVER, sock, out], { stdout: "ignore", stderr: "inherit" });
  return p;
}

describe("syslog via logger to a unix datagram socket", () => {
  test("one line per event, hostile text cannot split or forge messages, facility and level; down then up", async () => {
    const dir = join(tmp.dir, "s1");
    mkdirSync(dir);
    const db = tempDb(dir);
    const sock = join(dir, "log.sock");
    const out = join(dir, "received");
    const sink = syslogSink({ facility: "authpriv", socket: sock });
    enqueue(db, { channel: "file", kind: "changed", subject: "/etc/passwd", text: "changed: /etc/passwd" });
    enqueue(db, { channel: "log", kind: "alert", subject: "/var/log/auth.log", section: "Security Alerts", text: `${HOSTILE}\n<13>Jan  1 00:00:00 forged: line`, urgent: true });
    enqueue(db, { channel: "file", kind: "error", subject: "/x", text: "cannot read /x" });
    enqueue(db, { channel: "file", kind: "new", subject: "/y", text: "y".repeat(10_000) });
    // no syslog socket yet: failure, cursor stays
    await expect(sink.drain(db)).rejects.toThrow(/syslog/);
    expect(getCursor(db, "syslog")).toBe(0);
    const rx = startReceiver(sock, out);
    try {
      await until(() => existsSync(sock), 10_000, "receiver socket");
      expect(await sink.drain(db)).toBe(4);
      expect(getCursor(db, "syslog")).toBe(4);
      await until(() => readFileSync(out, "utf8").split("\n").length >= 5, 5000, "4 datagrams");
      const got = readFileSync(out, "utf8").split("\n").slice(0, -1);
      expect(got.length).toBe(4);
      // <PRI> = facility authpriv (10) * 8 + severity
      expect(got[0]).toMatch(new RegExp(`^<85>.* integrityd\\[${process.pid}\\]: \\[file/changed\\] /etc/passwd: changed: /etc/passwd$`));
      expect(got[1].startsWith("<81>")).toBe(true); // alert
      expect(got[1]).toContain("[log/alert] /var/log/auth.log: evil\\x0d | FAKE: injected\\x00\\x1b[31m\\u2028end | <13>Jan  1 00:00:00 forged: line");
      expect(got[1]).not.toContain("<LF>");
      expect(got[2].startsWith("<83>")).toBe(true); // err
      expect(got[3].length).toBeLessThan(4200); // bounded: one message, not split
      expect(got[3].endsWith("y...")).toBe(true);
    } finally {
      rx.kill();
      await rx.exited;
    }
    db.close();
  });
});
