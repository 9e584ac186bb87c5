// The event schema: every kind of event the producers make (through their own
// pure functions where they have them), mapped by report/ecs.ts, validates
// against the embedded JSON Schema; hostile bytes survive (escaped text plus
// exact base64); the binary prints the schema it embeds.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { EventRow, NewEvent } from "../../src/db/events.ts";
import { ETC } from "../../src/embedded.ts";
import { CUT_MARKER } from "../../src/logs/lines.ts";
import { lineEvents, noticeEvent } from "../../src/logs/store.ts";
import { step, type Observation, type PidState } from "../../src/pids/state.ts";
import { defaultConfig } from "../../src/config/config.ts";
import { emergencyRow } from "../../src/report/emergency.ts";
import { ecsEvent, SCHEMA_FILE, SCHEMA_VERSION } from "../../src/report/ecs.ts";
import type { Attrs } from "../../src/scan/attrs.ts";
import { baselineReport, compareVisit, deletionVerdict, problemReport, type Recorded } from "../../src/scan/compare.ts";
import { escapeBytes, escapeLatin1, unescapeBytes } from "../../src/util/escape.ts";
import { validate } from "../support/jsonschema.ts";

const SCHEMA = JSON.parse(ETC[SCHEMA_FILE]);
const NOW = Date.UTC(2026, 10, 30, 8, 0, 0);

let nextId = 1;
function row(channel: EventRow["channel"], e: Omit<NewEvent, "channel">): EventRow {
  return {
    id: nextId++, time: e.time ?? NOW, channel, kind: e.kind, urgent: e.urgent ? 1 : 0, subject: e.subject,
    section: e.section ?? "", text: e.text, details: JSON.stringify(e.details ?? {}), mailed: null,
  };
}

const attrs = (over: Partial<Attrs> = {}): Attrs => ({
  type: "file", mode: 0o644, uid: 0, gid: 0, size: 12n, ino: 4242n, nlink: 1, mtime: 1_764_000_000_123_456_789n,
  ctime: 1_764_000_000_123_456_789n, rdev: 0n, target: null, hash: `sha256:${"ab".repeat(32)}`, ...over,
});
const recorded = (a: Attrs): Recorded => ({ ...a, error: null, placeholder: false });

/** The file channel's events, from scan/compare.ts, plus the shapes of the details others add (writer, package). */
function fileEvents(): EventRow[] {
  const hostile = escapeBytes(Uint8Array.from([...Buffer.from("/etc/ev"), 0xff, 0x0a, ...Buffer.from("il")]));
  const out: EventRow[] = [];
  const add = (r: { kind: string; subject: string; text: string; details: Record<string, unknown> } | null, extra: Record<string, unknown> = {}) => {
    if (r) out.push(row("file", { ...r, details: { ...r.details, ...extra } }));
  };
  const ctx = (shown: string) => ({ baseline: false, shown: () => shown, below: 0 });
  for (const r of compareVisit(null, attrs(), null, ctx(hostile)).reports) add(r);
  for (const r of compareVisit(null, attrs({ type: "symlink", hash: null, target: Buffer.from("/tmp/x") }), null, ctx("/etc/link")).reports) add(r);
  for (const r of compareVisit(recorded(attrs()), attrs({ mode: 0o4755, size: 13n, hash: `sha256:${"cd".repeat(32)}` }), null, ctx("/usr/bin/passwd")).reports) {
    add(r, { writer: { pid: 4321, exe: "/usr/bin/vim.basic", uid: 1000, comm: "vim" } });
    add(r, { package: "mismatch", package_name: "passwd", package_version: "1:4.13+dfsg1-1" });
  }
  for (const r of compareVisit(recorded(attrs()), attrs({ hash: `sparse-sha256:${"ef".repeat(32)}` }), null, ctx("/var/big")).reports) add(r, { package: "unowned" });
  add(deletionVerdict(recorded(attrs({ type: "dir", hash: null })), 3, "/etc/gone")?.report ?? null);
  add(problemReport(null, "permission denied", "/root/secret"));
  add(baselineReport({ entries: 10, files: 8, bytes: 1000 }, 1234));
  out.push(row("file", { kind: "error", subject: "/nonexistent", text: "Error: area /nonexistent does not exist or is not a directory: nothing under it is checked" }));
  out.push(row("file", { kind: "package", subject: "coreutils", text: "coreutils 9.1-1 → 9.1-2: 105 files, content verified", details: { package: "verified", package_name: "coreutils", package_version: "9.1-2" } }));
  return out;
}

/** The log channel's events, from logs/store.ts, plus the journal origin and a spoofed line. */
function logEvents(): EventRow[] {
  const out: EventRow[] = [];
  const add = (e: { kind: string; section: string; subject: string; text: string; urgent: boolean; details: Record<string, unknown> }, extra: Record<string, unknown> = {}) =>
    out.push(row("log", { ...e, details: { ...e.details, ...extra } }));
  const line = escapeLatin1("Nov 30 08:00:00 web1 sshd[12]: Failed password for r\xf6ot from 10.0.0.1");
  for (const e of lineEvents("/var/log/auth.log", line, 1234, false, [{ kind: "alert", section: "Security Alerts" }, { kind: "violation", section: "Security Events" }])) add(e, { rule: "/etc/logcheck/cracking.d/ssh:3" });
  for (const e of lineEvents("/var/log/syslog", `${"x".repeat(50)}${CUT_MARKER}`, 0, true, [{ kind: "system", section: "System Events" }])) add(e);
  for (const e of lineEvents("journal", "Nov 30 08:00:01 web1 sudo[99]: pam_unix(sudo:auth): auth could not identify password", 0, false, [{ kind: "alert", section: "Security Alerts" }])) {
    add(e, { journal: { source: "local", cursor: "s=abc;i=1", uid: 0, gid: 0, pid: 99, comm: "sudo", exe: "/usr/bin/sudo", unit: "session-1.scope", identifier: "sudo", trusted: true } });
    add(e, { journal: { source: "local", cursor: "s=abc;i=2", uid: 1000, gid: 1000, pid: 100, comm: "logger\nFAKE\u001b[2J", exe: "/usr/bin/logger", unit: "session-2.scope", identifier: "sshd", trusted: true }, spoofed: true, spoof_reason: "identifier sshd from /usr/bin/logger" });
  }
  add(noticeEvent("/etc/logcheck", "rules reloaded"));
  out.push(row("log", { kind: "notice", section: "integrityd", subject: "integrityd", text: "integrityd stopped (SIGTERM)", urgent: true }));
  return out;
}

/** The pid channel's events, from pids/state.ts's own step(). */
function pidEvents(): EventRow[] {
  const proc = (pid: number, start: number, state = "S") => ({ pid, hostpid: pid, start, started: NOW - 60_000, boot: "b", name: "sshd", state });
  const seq: Observation[] = [
    { kind: "alive", proc: proc(10, 100) },
    { kind: "alive", proc: proc(10, 100, "Z") },
    { kind: "alive", proc: proc(11, 200) },
    { kind: "alive", proc: proc(11, 250) },
    { kind: "gone", pid: 11 },
    { kind: "alive", proc: proc(12, 300) },
    { kind: "missing" },
    { kind: "alive", proc: proc(13, 400) },
    { kind: "bad", reason: "garbage", detail: "not a number: 'x'" },
  ];
  let prev: PidState | null = null;
  const out: EventRow[] = [];
  seq.forEach((obs, i) => {
    const o = step("/run/sshd.pid", prev, obs, NOW + i * 1000, i === 0);
    prev = o.next;
    for (const e of o.events) out.push(row("pid", { kind: e.kind, subject: "/run/sshd.pid", text: e.text, urgent: e.urgent, details: e.details }));
  });
  return out;
}

describe("the event schema", () => {
  // the notice sent past the queue when the database is broken (report/emergency.ts)
  const emergency = emergencyRow(defaultConfig("/etc/integrityd.conf"), "database is corrupt", "integrityd stops (exit 74)", NOW);
  const all = [...fileEvents(), ...logEvents(), ...pidEvents(), emergency];
  const docs = all.map((r) => ecsEvent(r, "web1"));

  test("every kind of event validates", () => {
    const kinds = new Set(all.map((r) => `${r.channel}/${r.kind}`));
    for (const k of ["file/new", "file/changed", "file/deleted", "file/error", "file/baseline", "file/package", "log/alert", "log/violation", "log/system", "log/notice", "pid/died", "pid/zombie", "pid/restarted", "pid/removed", "pid/created", "pid/error", "pid/recovered", "daemon/fatal"]) {
      expect([...kinds]).toContain(k);
    }
    for (const d of docs) expect(validate(SCHEMA, d)).toEqual([]);
  });

  test("the validator catches what the schema forbids", () => {
    const d = structuredClone(docs[0]) as Record<string, any>;
    d.event.kind = "signal";
    d.integrityd.schema_version = 2;
    d.file.mode = 420;
    d.extra = 1;
    delete d.host;
    const problems = validate(SCHEMA, d).join("\n");
    for (const p of ["$.event.kind", "$.integrityd.schema_version", "$.file.mode", "unexpected field extra", "missing host"]) expect(problems).toContain(p);
  });

  test("ECS fields from the producers' details", () => {
    const by = (ch: string, kind: string, pred: (d: any) => boolean = () => true) => docs.find((d: any) => d.integrityd.channel === ch && d.integrityd.kind === kind && pred(d)) as any;
    const changed = by("file", "changed", (d) => d.process);
    expect(changed.event).toMatchObject({ kind: "alert", category: ["file"], type: ["change"], action: "changed", severity: 5, dataset: "integrityd.file" });
    expect(changed.file).toMatchObject({ path: "/usr/bin/passwd", mode: "4755", size: 13, inode: "4242", uid: "0", hash: { sha256: "cd".repeat(32) } });
    expect(changed.file.mtime).toBe("2025-11-24T16:00:00.123Z");
    expect(changed.process).toEqual({ pid: 4321, executable: "/usr/bin/vim.basic", name: "vim" });
    expect(changed.user).toEqual({ id: "1000" });
    expect(changed.integrityd.file.changes).toEqual(["mode", "size", "hash"]);
    expect(changed.integrityd.file.before.mode).toBe("0644");
    const pkg = by("file", "changed", (d) => d.package);
    expect(pkg.package).toEqual({ name: "passwd", version: "1:4.13+dfsg1-1" });
    expect(pkg.integrityd.package.verdict).toBe("mismatch");
    expect(by("file", "changed", (d) => d.integrityd.package?.verdict === "unowned").event.kind).toBe("alert");
    expect(by("file", "package").event).toMatchObject({ kind: "event", category: ["package"] });
    expect(by("file", "changed", (d) => d.file.path === "/var/big").file.hash).toBeUndefined(); // a sparse digest is not ECS's sha256
    const alert = by("log", "alert", (d) => d.log.file.path === "/var/log/auth.log");
    expect(alert.event).toMatchObject({ kind: "alert", category: ["intrusion_detection"], severity: 1 });
    expect(alert.log.level).toBe("alert");
    expect(alert.rule).toEqual({ name: "/etc/logcheck/cracking.d/ssh:3", category: "Security Alerts" });
    expect(alert.integrityd.log.offset).toBe(1234);
    const journal = by("log", "alert", (d) => d.integrityd.journal && !d.integrityd.spoofed);
    expect(journal.process).toEqual({ pid: 99, executable: "/usr/bin/sudo", name: "sudo" });
    expect(journal.user).toEqual({ id: "0" });
    expect(journal.integrityd.journal).toMatchObject({ unit: "session-1.scope", identifier: "sudo", trusted: true });
    const spoof = by("log", "alert", (d) => d.integrityd.spoofed);
    expect(spoof.integrityd.spoof_reason).toContain("logger");
    expect(spoof.process.name).toBe("logger\\nFAKE\\x1b[2J"); // a hostile process name: no raw control character
    // a notice about the daemon or a rules home names no log file
    expect(by("log", "notice", (d) => d.integrityd.subject === "integrityd").log.file).toBeUndefined();
    const died = by("pid", "died");
    expect(died.event).toMatchObject({ kind: "alert", category: ["process"], type: ["end"], severity: 1 });
    expect(died.process.pid).toBe(11);
    expect(died.integrityd.pidfile).toBe("/run/sshd.pid");
    expect(by("file", "error").log.level).toBe("err");
    expect(by("daemon", "fatal").event).toMatchObject({ id: "0", type: ["error"], severity: 1, dataset: "integrityd.daemon" });
    for (const d of docs as any[]) {
      expect(d["@timestamp"]).toMatch(/^2026-11-30T08:00:\d\d\.000Z$/);
      expect(d.integrityd.schema_version).toBe(SCHEMA_VERSION);
      expect(JSON.parse(d.integrityd.details)).toBeInstanceOf(Object);
    }
    // ids are unique and textual
    expect(new Set(docs.map((d: any) => d.event.id)).size).toBe(docs.length);
  });

  test("hostile bytes: escaped text plus the exact bytes in base64", () => {
    const raw = Uint8Array.from([...Buffer.from("/etc/ev"), 0xff, 0x0a, ...Buffer.from("il")]);
    const d = docs.find((x: any) => x.integrityd.file?.path_base64) as any;
    expect(d.file.path).toBe("/etc/ev\\xff\\nil");
    expect(Buffer.from(d.integrityd.file.path_base64, "base64")).toEqual(Buffer.from(raw));
    const line = docs.find((x: any) => x.integrityd.message_base64) as any;
    expect(line.message).toContain("r\\xf6ot");
    expect(Buffer.from(line.integrityd.message_base64, "base64").toString("latin1")).toBe("Nov 30 08:00:00 web1 sshd[12]: Failed password for r\xf6ot from 10.0.0.1");
    // a plain path carries no base64; a cut line's base64 leaves the marker out
    expect((docs.find((x: any) => x.file?.path === "/usr/bin/passwd") as any).integrityd.file.path_base64).toBeUndefined();
    expect((docs.find((x: any) => x.integrityd.log?.cut) as any).integrityd.message_base64).toBeUndefined();
    // the inverse of escapeBytes, over every byte value and the escapes it makes
    const every = Uint8Array.from([...Array(256).keys(), 0x5c, 0x6e, 0xe2, 0x80, 0xae, 0xc3, 0xa9]);
    expect(Buffer.from(unescapeBytes(escapeBytes(every)))).toEqual(Buffer.from(every));
  });
});

test("--print-schema prints the embedded schema", async () => {
  const bin = join(import.meta.dir, "../../dist/integrityd");
  const p = Bun.spawnSync([bin, "--print-schema"]);
  expect(p.exitCode).toBe(0);
  expect(p.stdout.toString()).toBe(readFileSync(join(import.meta.dir, "../../etc", SCHEMA_FILE), "utf8"));
  expect(JSON.parse(p.stdout.toString()).properties.integrityd.properties.schema_version.const).toBe(SCHEMA_VERSION);
});
