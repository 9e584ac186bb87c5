// Shipping with the engines admins run: two real rsyslogd (Debian's package) on
// 127.0.0.1, a host and a collector, each with its own config (the snippets in
// etc/rsyslog/, placeholders replaced), pid file and work directory. The syslog
// sink (syslogformat = rfc5424) sends to the host's socket; the host forwards
// over TCP through its disk-assisted queue. The collector is stopped while
// events are made and started again: every event id arrives exactly once, the
// structured data intact. (Not tested, because it does not hold: a restart of
// the HOST's rsyslogd while the collector is down lost one event and repeated
// another in our runs; see the README's "Running many hosts".) A local user who writes to the same socket gets
// nothing forwarded (the ruleset keeps uid 0 only).
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { enqueue } from "../../src/db/events.ts";
import { getCursor, syslogSink } from "../../src/report/sinks.ts";
import { escapeBytes } from "../../src/util/escape.ts";
import { parse5424, Rsyslogd, rsyslogAvailable, snippet, waitForPort } from "../support/rsyslog.ts";
import { throwawayUser } from "../support/users.ts";
import { freePort, tempDb, tempDir, until } from "./helpers.ts";

const tmp = tempDir("integrityd-rsyslog-");
const running: Rsyslogd[] = [];
afterAll(async () => {
  for (const r of running) await r.stop();
  tmp.cleanup();
});

const skip = rsyslogAvailable();
if (skip) console.error(`skipped (rsyslog shipping): ${skip}`);

/** Every event line the collector wrote so far (all hosts' files). */
function received(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) => readFileSync(join(dir, f), "utf8").split("\n").filter((l) => l !== ""));
}

const idOf = (line: string) => parse5424(line)?.params.find(([n]) => n === "event.id")?.[1];

describe.skipIf(skip !== null)("host rsyslog → collector rsyslog", () => {
  test("collector down while events are made: every event id arrives exactly once, structured data intact", async () => {
    const port = await freePort();
    const sock = join(tmp.dir, "h.sock");
    const out = join(tmp.dir, "remote");
    const collector = new Rsyslogd(join(tmp.dir, "collector"), snippet("integrityd-collector.conf", [
      ['Port="514"', `Port="${port}"`],
      ["/var/log/remote/integrityd/", `${out}/`],
    ]), "");
    const host = new Rsyslogd(join(tmp.dir, "host"), snippet("integrityd-host.conf", [
      ["/run/integrityd-syslog.sock", sock],
      ['Target="collector.example.org" Port="514"', `Target="127.0.0.1" Port="${port}"`],
    ]), 'module(load="imuxsock" SysSock.Use="off")');
    running.push(collector, host);
    collector.start();
    await waitForPort(port, collector);
    host.start();
    await until(() => existsSync(sock), 10_000, "the host's socket");

    mkdirSync(join(tmp.dir, "db"));
    const db = tempDb(join(tmp.dir, "db"));
    const sink = syslogSink({ facility: "authpriv", socket: sock, format: "rfc5424", host: "web1" });
    const hostile = escapeBytes(Uint8Array.from([...Buffer.from('/etc/a"b]c\\'), 0xff, 0x0a, ...Buffer.from("d")]));
    // more than imuxsock's default rate limit (200 in 5 s) at once
    const make = (n: number, tag: string) => {
      for (let i = 0; i < n; i++) {
        if (i % 3 === 0) enqueue(db, { channel: "file", kind: "changed", subject: hostile, text: `Changed: ${hostile}\n  mode: 0644 => 4755`, details: { path: hostile, changes: { mode: ["0644", "4755"] } } });
        else if (i % 3 === 1) enqueue(db, { channel: "log", kind: "alert", section: "Security Alerts", subject: "/var/log/auth.log", urgent: true, text: `${tag} ${i} Failed password for r\\xf6ot`, details: { log: "/var/log/auth.log", offset: i } });
        else enqueue(db, { channel: "pid", kind: "died", subject: "/run/sshd.pid", urgent: true, text: `${tag} ${i} died`, details: { pidfile: "/run/sshd.pid", pid: 100 + i } });
      }
    };

    make(300, "up");
    expect(await sink.drain(db)).toBe(300);
    await until(() => received(out).length >= 300, 20_000, "the first 300 events at the collector");

    await collector.stop();
    make(300, "down");
    expect(await sink.drain(db)).toBe(300); // the host takes them; its queue holds them
    expect(getCursor(db, "syslog")).toBe(600);
    await Bun.sleep(1500); // the host tries, fails, and keeps them queued
    expect(received(out).length).toBe(300);
    collector.start();
    await waitForPort(port, collector);
    await until(() => received(out).length >= 600, 30_000, "all 600 events at the collector");
    await Bun.sleep(1000); // nothing more comes (no duplicates)

    const lines = received(out);
    const ids = lines.map(idOf);
    expect(ids.length).toBe(600);
    expect(new Set(ids).size).toBe(600);
    expect(ids.map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));

    // the structured data survived both hops: the schema's fields, hostile bytes escaped and exact in base64
    const first = parse5424(lines.find((l) => idOf(l) === "1")!)!;
    const p = new Map(first.params);
    expect(p.get("integrityd.schema_version")).toBe("1");
    expect(p.get("event.action")).toBe("changed");
    expect(p.get("host.name")).toBe("web1");
    expect(p.get("file.path")).toBe(hostile);
    expect(Buffer.from(p.get("integrityd.file.path_base64")!, "base64")).toEqual(Buffer.from([...Buffer.from('/etc/a"b]c\\'), 0xff, 0x0a, ...Buffer.from("d")]));
    expect(first.params.filter(([n]) => n === "event.category").map(([, v]) => v)).toEqual(["file"]);
    expect(first.msg).toContain("[file/changed]");
    expect(first.msg).not.toContain("\n");
    const alert = lines.find((l) => idOf(l) === "2")!;
    expect(alert).toMatch(/^<81>1 \S+ web1 integrityd \d+ alert /); // authpriv.alert
    db.close();

    // a local user writes a forged event to the same socket: not forwarded
    const user = throwawayUser("a forged event on the host's socket");
    if (user) {
      chmodSync(tmp.dir, 0o711); // the user can reach the socket (imuxsock makes it 0666)
      try {
        const r = user.run(["/usr/bin/logger", "-u", sock, "--socket-errors=on", "--rfc5424", "-t", "integrityd", "-p", "authpriv.alert", "--msgid", "alert",
          "--sd-id", "integrityd@32473", "--sd-param", 'event.id="999999"', "forged"]);
        expect(`${r.code} ${r.stderr}`).toBe("0 "); // the socket took it
        await Bun.sleep(1500);
        expect(received(out).some((l) => l.includes("999999"))).toBe(false);
      } finally {
        user.remove();
      }
    }
  }, 90_000);
});
