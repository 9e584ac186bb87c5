// The I/O edge: PID file reading, /proc/PID/stat parsing, directory scans,
// namespace mapping helpers. Real files and the real /proc; a fake /proc tree
// only for the OpenVZ layout, which this kernel cannot produce.
import { afterAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  PID_MAX, PidMapper, ProcFs, bytesPath, parsePidText, parseStat, parseStatus, readPidFile, scanPidDir,
} from "../../src/pids/proc.ts";

const dir = mkdtempSync(join(tmpdir(), "integrityd-pids-proc-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const enc = (s: string) => new TextEncoder().encode(s);

describe("parsePidText", () => {
  test("a PID with surrounding whitespace", () => {
    expect(parsePidText(enc("1234"))).toEqual({ kind: "pid", pid: 1234 });
    expect(parsePidText(enc("  \t1234\n\n"))).toEqual({ kind: "pid", pid: 1234 });
    expect(parsePidText(enc("0042\r\n"))).toEqual({ kind: "pid", pid: 42 });
    expect(parsePidText(enc(String(PID_MAX)))).toEqual({ kind: "pid", pid: PID_MAX });
  });
  test("every kind of bad content is a clear reason", () => {
    const reason = (s: string | Uint8Array) => {
      const r = parsePidText(typeof s === "string" ? enc(s) : s);
      return r.kind === "bad" ? r.reason : r.kind;
    };
    expect(reason("")).toBe("empty");
    expect(reason(" \n\t ")).toBe("empty");
    expect(reason("abc")).toBe("garbage");
    expect(reason("12 34")).toBe("garbage");
    expect(reason("12\n34")).toBe("garbage");
    expect(reason("+12")).toBe("garbage");
    expect(reason("1.5")).toBe("garbage");
    expect(reason("0x10")).toBe("garbage");
    expect(reason("-5")).toBe("negative");
    expect(reason("0")).toBe("range");
    expect(reason("000")).toBe("range");
    expect(reason(String(PID_MAX + 1))).toBe("range");
    expect(reason("99999999999999999999999999")).toBe("range");
    expect(reason(new Uint8Array([0x31, 0x00, 0x32]))).toBe("garbage");
  });
  test("hostile bytes are escaped in the detail", () => {
    const r = parsePidText(new Uint8Array([0x1b, 0x5b, 0x33, 0x31, 0x6d, 0xff, 0x0a, 0x41]));
    expect(r.kind).toBe("bad");
    if (r.kind === "bad") {
      expect(r.detail).toContain("\\x1b[31m\\xff\\nA");
      expect(/[\x00-\x1f\x7f]/.test(r.detail)).toBe(false);
    }
  });
});

describe("readPidFile", () => {
  test("regular file", () => {
    writeFileSync(join(dir, "ok.pid"), " 77\n");
    expect(readPidFile(join(dir, "ok.pid"))).toEqual({ kind: "pid", pid: 77 });
  });
  test("missing file and missing directory", () => {
    expect(readPidFile(join(dir, "nope.pid"))).toEqual({ kind: "missing" });
    expect(readPidFile(join(dir, "ok.pid", "sub.pid"))).toEqual({ kind: "missing" });
  });
  test("a symbolic link is never followed", () => {
    writeFileSync(join(dir, "target"), "77\n");
    symlinkSync(join(dir, "target"), join(dir, "link.pid"));
    const r = readPidFile(join(dir, "link.pid"));
    expect(r.kind === "bad" && r.reason).toBe("symlink");
  });
  test("a FIFO does not block, a directory is not a file", () => {
    execFileSync("mkfifo", [join(dir, "fifo.pid")]);
    const r = readPidFile(join(dir, "fifo.pid"));
    expect(r.kind === "bad" && r.reason).toBe("notfile");
    mkdirSync(join(dir, "d.pid"));
    const d = readPidFile(join(dir, "d.pid"));
    expect(d.kind === "bad" && d.reason).toBe("notfile");
  });
  test("too large", () => {
    writeFileSync(join(dir, "big.pid"), `${" ".repeat(5000)}12`);
    const r = readPidFile(join(dir, "big.pid"));
    expect(r.kind === "bad" && r.reason).toBe("toolarge");
  });
  test("a non-UTF-8 file name (byte-string path)", () => {
    const name = Buffer.concat([Buffer.from(dir + "/x"), Buffer.from([0xff, 0xfe]), Buffer.from(".pid")]);
    writeFileSync(name, "12\n");
    expect(readPidFile(name.toString("latin1"))).toEqual({ kind: "pid", pid: 12 });
    expect(bytesPath(name.toString("latin1")).equals(name)).toBe(true);
  });
});

describe("parseStat", () => {
  const line = (comm: string) => enc(`123 (${comm}) S 1 123 123 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 200 184467 1 1 0 0 0 0 0 0 0\n`);
  test("fields after the last parenthesis", () => {
    expect(parseStat(line("sshd"))).toEqual({ name: "sshd", state: "S", ppid: 1, start: 98765 });
  });
  test("names with spaces and parentheses", () => {
    expect(parseStat(line("a) Z 9 (b"))?.start).toBe(98765);
    expect(parseStat(line("a) Z 9 (b"))?.state).toBe("S");
    expect(parseStat(line("a) Z 9 (b"))?.name).toBe("a) Z 9 (b");
    expect(parseStat(line("my prog ) )"))?.ppid).toBe(1);
  });
  test("hostile names are escaped", () => {
    expect(parseStat(line("x\nfake: died"))?.name).toBe("x\\nfake: died");
  });
  test("truncated or garbage is null", () => {
    expect(parseStat(enc("123 (x) S 1 2"))).toBeNull();
    expect(parseStat(enc("garbage"))).toBeNull();
  });
  test("the real /proc/self/stat", () => {
    const p = new ProcFs();
    const st = p.stat(process.pid);
    expect(st).not.toBeNull();
    expect(st!.start).toBeGreaterThan(0);
    expect(p.stat(PID_MAX + 5)).toBeNull();
    expect(p.bootTime()).toBeGreaterThan(1_000_000_000);
    expect(p.bootId()).toMatch(/^[0-9a-f-]{36}$/);
  });
});

test("parseStatus", () => {
  const s = parseStatus("Name:\tx\nTgid:\t5\nPid:\t5\nNSpid:\t5791\t3\t1\nenvID:\t101\nVPid:\t7\n");
  expect(s).toEqual({ nspid: [5791, 3, 1], envID: 101, vpid: 7, tgid: 5 });
  expect(parseStatus("NSpid:\tx y\n").nspid).toBeNull();
});

describe("scanPidDir", () => {
  test("*.pid recursively, symlinks listed (to be reported), symlinked dirs not entered", async () => {
    const d = join(dir, "scan");
    mkdirSync(join(d, "a", "b"), { recursive: true });
    writeFileSync(join(d, "one.pid"), "1");
    writeFileSync(join(d, "a", "two.pid"), "1");
    writeFileSync(join(d, "a", "b", "three.pid"), "1");
    writeFileSync(join(d, "a", "notes.txt"), "1");
    writeFileSync(join(d, "a", "pid"), "1");
    symlinkSync(join(d, "one.pid"), join(d, "a", "link.pid"));
    symlinkSync(join(d, "a"), join(d, "loop"));
    const r = await scanPidDir(d);
    expect(r.files).toEqual([join(d, "a/b/three.pid"), join(d, "a/link.pid"), join(d, "a/two.pid"), join(d, "one.pid")].sort());
    expect(r.truncated).toBe(false);
    const lim = await scanPidDir(d, { depth: 0, files: 100 });
    expect(lim.files).toEqual([join(d, "one.pid")]);
    expect(lim.truncated).toBe(true);
  });
});

describe("PID mapping", () => {
  test("pidct 100 and a pidct in our own namespace map to themselves", async () => {
    const m = new PidMapper(new ProcFs());
    expect(await m.map(100, 4242)).toEqual({ hostpid: 4242 });
    expect(await m.map(process.pid, 4242)).toEqual({ hostpid: 4242 });
  });
  test("a pidct naming no process is an error", async () => {
    const m = new PidMapper(new ProcFs());
    const r = await m.map(PID_MAX + 7, 1);
    expect("error" in r && r.error).toContain(`pidct ${PID_MAX + 7}`);
  });
  test("OpenVZ layout: envID and VPid (fake /proc tree)", async () => {
    const root = join(dir, "vzproc");
    const mk = (pid: number | string, status: string) => {
      mkdirSync(join(root, String(pid)), { recursive: true });
      writeFileSync(join(root, String(pid), "status"), status);
    };
    mk("self", "Name:\tintegrityd\nenvID:\t0\nVPid:\t900\n");
    mk(500, "Name:\tinit\nenvID:\t101\nVPid:\t1\n");
    mk(501, "Name:\tsshd\nenvID:\t101\nVPid:\t33\n");
    mk(502, "Name:\tsshd\nenvID:\t102\nVPid:\t33\n");
    mk(503, "Name:\thost\nenvID:\t0\nVPid:\t503\n");
    const p = new ProcFs(root);
    expect(p.isOpenVZ()).toBe(true);
    const m = new PidMapper(p);
    expect(await m.map(101, 33)).toEqual({ hostpid: 501 });
    expect(await m.map(102, 33)).toEqual({ hostpid: 502 });
    expect(await m.map(101, 34)).toEqual({ gone: true });
    expect(await m.map(100, 33)).toEqual({ hostpid: 33 });
    expect(new ProcFs().isOpenVZ()).toBe(false);
  });
});
