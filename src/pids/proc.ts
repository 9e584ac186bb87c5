// The I/O edge of the PID watcher: reading PID files safely, /proc/PID/stat,
// boot time and boot id, finding PID files in directories, and mapping PIDs of
// a container's PID namespace to host PIDs (see the comment in pids.ts).
//
// Paths are "byte strings": one char per byte (latin1), so file names that are
// not UTF-8 survive; open them with bytesPath() and show them with escapeLatin1().
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, statSync } from "node:fs";
import { escapeBytes, escapeLatin1 } from "../util/escape.ts";
import { yieldToLoop } from "../util/loop.ts";
import type { BadReason } from "./state.ts";

export const MAX_PIDFILE_BYTES = 4096;
/** PID_MAX_LIMIT of Linux (2^22): no PID can be larger. */
export const PID_MAX = 4194304;
/** USER_HZ: the unit of /proc/PID/stat start times; 100 on every Linux architecture we run on. */
export const CLOCK_TICKS = 100;
/** Limits of the recursive scan of a PID file directory. */
export const SCAN_MAX_DEPTH = 16;
export const SCAN_MAX_FILES = 10000;

export const bytesPath = (p: string): Buffer => Buffer.from(p, "latin1");
export const toBytesString = (utf8: string): string => Buffer.from(utf8, "utf8").toString("latin1");

export type PidFileRead = { kind: "missing" } | { kind: "bad"; reason: BadReason; detail: string } | { kind: "pid"; pid: number };

const WS = new Set([0x20, 0x09, 0x0a, 0x0d, 0x0b, 0x0c]);

/** Parse the contents of a PID file: one decimal PID, surrounding whitespace allowed. */
export function parsePidText(buf: Uint8Array): PidFileRead {
  let a = 0, b = buf.length;
  while (a < b && WS.has(buf[a])) a++;
  while (b > a && WS.has(buf[b - 1])) b--;
  if (a === b) return { kind: "bad", reason: "empty", detail: "empty PID file" };
  const body = buf.subarray(a, b);
  const shown = escapeBytes(body.subarray(0, 40)) + (body.length > 40 ? "..." : "");
  const text = Buffer.from(body).toString("latin1");
  if (/^-[0-9]+$/.test(text)) return { kind: "bad", reason: "negative", detail: `negative PID ${shown}` };
  if (!/^[0-9]+$/.test(text)) return { kind: "bad", reason: "garbage", detail: `not a PID: '${shown}'` };
  const digits = text.replace(/^0+(?=[0-9])/, "");
  const pid = digits.length > 8 ? Infinity : Number(digits);
  if (pid < 1 || pid > PID_MAX) return { kind: "bad", reason: "range", detail: `PID ${shown} out of range (1..${PID_MAX})` };
  return { kind: "pid", pid };
}

function errCode(e: unknown): string {
  return (e as { code?: string }).code ?? (e as Error).message ?? String(e);
}

/**
 * Read a PID file without following a symbolic link as its last component
 * (O_NOFOLLOW), without blocking on a FIFO (O_NONBLOCK), and no more than
 * MAX_PIDFILE_BYTES.
 */
export function readPidFile(path: string): PidFileRead {
  let fd: number;
  try {
    fd = openSync(bytesPath(path), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    const code = errCode(e);
    if (code === "ENOENT" || code === "ENOTDIR") return { kind: "missing" };
    if (code === "ELOOP") return { kind: "bad", reason: "symlink", detail: "is a symbolic link (not followed)" };
    return { kind: "bad", reason: "unreadable", detail: `cannot open (${code})` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { kind: "bad", reason: "notfile", detail: "not a regular file" };
    if (st.size > MAX_PIDFILE_BYTES) return { kind: "bad", reason: "toolarge", detail: `larger than ${MAX_PIDFILE_BYTES} bytes (${st.size})` };
    const buf = Buffer.alloc(MAX_PIDFILE_BYTES + 1);
    let n = 0;
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r <= 0) break;
      n += r;
      if (n >= buf.length) break;
    }
    if (n > MAX_PIDFILE_BYTES) return { kind: "bad", reason: "toolarge", detail: `larger than ${MAX_PIDFILE_BYTES} bytes` };
    return parsePidText(buf.subarray(0, n));
  } catch (e) {
    return { kind: "bad", reason: "unreadable", detail: `cannot read (${errCode(e)})` };
  } finally {
    try { closeSync(fd); } catch { /* nothing to do */ }
  }
}

export interface ProcStat {
  name: string; // printable (escaped)
  state: string;
  ppid: number;
  start: number; // clock ticks since boot
}

/**
 * Parse /proc/PID/stat: "pid (comm) state ppid ... starttime ...". comm may
 * hold spaces and parentheses, so the fields are taken after the LAST ')'.
 */
export function parseStat(buf: Uint8Array): ProcStat | null {
  const open = buf.indexOf(0x28); // (
  const close = buf.lastIndexOf(0x29); // )
  if (open < 0 || close < open) return null;
  const name = escapeBytes(buf.subarray(open + 1, close));
  const rest = Buffer.from(buf.subarray(close + 1)).toString("latin1").trim().split(/ +/);
  // rest[0] is field 3 (state); field 22 (starttime) is rest[19]
  if (rest.length < 20) return null;
  const state = rest[0];
  const ppid = Number(rest[1]);
  const start = Number(rest[19]);
  if (!/^[A-Za-z]$/.test(state) || !Number.isSafeInteger(start) || !Number.isSafeInteger(ppid)) return null;
  return { name, state, ppid, start };
}

/** The lines "Key:\tvalue" of /proc/PID/status that we need. */
export function parseStatus(text: string): { nspid: number[] | null; envID: number | null; vpid: number | null; tgid: number | null } {
  let nspid: number[] | null = null, envID: number | null = null, vpid: number | null = null, tgid: number | null = null;
  for (const line of text.split("\n")) {
    const i = line.indexOf(":");
    if (i < 0) continue;
    const key = line.slice(0, i);
    const val = line.slice(i + 1).trim();
    const num = /^[0-9]+$/.test(val) ? Number(val) : null;
    if (key === "NSpid") {
      const parts = val.split(/\s+/);
      if (parts.every((p) => /^[0-9]+$/.test(p))) nspid = parts.map(Number);
    } else if (key === "envID") envID = num;
    else if (key === "VPid") vpid = num;
    else if (key === "Tgid") tgid = num;
  }
  return { nspid, envID, vpid, tgid };
}


/** /proc, or a copy of its shape under another root (tests of OpenVZ layouts). */
export class ProcFs {
  constructor(readonly root = "/proc") {}

  private read(rel: string, max = 65536): Buffer | null {
    let fd: number;
    try {
      fd = openSync(`${this.root}/${rel}`, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch {
      return null;
    }
    try {
      const buf = Buffer.alloc(max);
      let n = 0;
      for (;;) {
        const r = readSync(fd, buf, n, buf.length - n, null);
        if (r <= 0 || (n += r) >= buf.length) break;
      }
      return buf.subarray(0, n);
    } catch {
      return null;
    } finally {
      try { closeSync(fd); } catch { /* nothing to do */ }
    }
  }

  /** Boot time in seconds since the epoch (btime of /proc/stat). */
  bootTime(): number {
    const m = /^btime\s+([0-9]+)/m.exec(this.read("stat", 1 << 20)?.toString("latin1") ?? "");
    return m ? Number(m[1]) : 0;
  }

  /** A unique id of this boot (changes on every reboot, unlike btime it never jitters). */
  bootId(): string {
    const b = this.read("sys/kernel/random/boot_id", 256)?.toString("latin1").trim();
    return b || `btime:${this.bootTime()}`;
  }

  stat(pid: number): ProcStat | null {
    const b = this.read(`${pid}/stat`, 4096);
    return b ? parseStat(b) : null;
  }

  status(pid: number | "self"): ReturnType<typeof parseStatus> | null {
    const b = this.read(`${pid}/status`, 65536);
    return b ? parseStatus(b.toString("latin1")) : null;
  }

  nsLink(pid: number | "self"): string | null {
    try {
      return readlinkSync(`${this.root}/${pid}/ns/pid`);
    } catch {
      return null;
    }
  }

  /** PIDs of all processes (numeric entries of the root). */
  pids(): number[] {
    try {
      return readdirSync(this.root).filter((n) => /^[1-9][0-9]*$/.test(n)).map(Number);
    } catch {
      return [];
    }
  }

  /** OpenVZ kernels mark /proc/PID/status with an envID line. */
  isOpenVZ(): boolean {
    return this.status("self")?.envID != null;
  }

  /** Map every process of a PID namespace: namespace PID -> host PID. */
  async namespaceMap(link: string): Promise<Map<number, number>> {
    const map = new Map<number, number>();
    let i = 0;
    for (const pid of this.pids()) {
      if (++i % 256 === 0) await yieldToLoop();
      if (this.nsLink(pid) !== link) continue;
      const ns = this.status(pid)?.nspid;
      if (ns && ns.length > 0) map.set(ns[ns.length - 1], pid);
    }
    return map;
  }

  /** Map every OpenVZ container process: "envID:VPid" -> host PID. */
  async openvzMap(): Promise<Map<string, number>> {
    const map = new Map<string, number>();
    let i = 0;
    for (const pid of this.pids()) {
      if (++i % 256 === 0) await yieldToLoop();
      const st = this.status(pid);
      if (st?.envID != null && st.vpid != null) map.set(`${st.envID}:${st.vpid}`, pid);
    }
    return map;
  }
}

export type Mapped = { hostpid: number } | { gone: true } | { error: string };

/**
 * Maps PIDs as written in PID files under one `pidct` to host PIDs, for one
 * check cycle (the maps are built lazily, once per cycle).
 */
export class PidMapper {
  private nsMaps = new Map<string, Promise<Map<number, number>>>();
  private vzMap: Promise<Map<string, number>> | null = null;
  private openvz: boolean | null = null;
  private selfNs: string | null | undefined;

  constructor(readonly proc: ProcFs) {}

  async map(pidct: number, pid: number): Promise<Mapped> {
    if (pidct === 100) return { hostpid: pid };
    if (this.openvz === null) this.openvz = this.proc.isOpenVZ();
    if (this.openvz) {
      this.vzMap ??= this.proc.openvzMap();
      const host = (await this.vzMap).get(`${pidct}:${pid}`);
      return host === undefined ? { gone: true } : { hostpid: host };
    }
    const link = this.proc.nsLink(pidct);
    const anchor = link === null ? null : this.proc.stat(pidct);
    if (link === null || !anchor || anchor.state === "Z" || anchor.state === "X") {
      return { error: `pidct ${pidct}: no live process ${pidct} whose PID namespace to use (container stopped?)` };
    }
    if (this.selfNs === undefined) this.selfNs = this.proc.nsLink("self");
    if (link === this.selfNs) return { hostpid: pid };
    let m = this.nsMaps.get(link);
    if (!m) {
      m = this.proc.namespaceMap(link);
      this.nsMaps.set(link, m);
    }
    const host = (await m).get(pid);
    return host === undefined ? { gone: true } : { hostpid: host };
  }
}

/**
 * The PID files of a directory: `*.pid` entries (regular files and symbolic
 * links, which are then reported, never followed), recursively; symbolic
 * links to directories are not entered. Returns byte-string paths, sorted.
 */
export async function scanPidDir(dir: string, limits = { depth: SCAN_MAX_DEPTH, files: SCAN_MAX_FILES }): Promise<{ files: string[]; truncated: boolean }> {
  const files: string[] = [];
  let truncated = false;
  const walk = async (d: string, depth: number): Promise<void> => {
    let ents;
    try {
      ents = readdirSync(bytesPath(d), { withFileTypes: true, encoding: "latin1" });
    } catch {
      return;
    }
    const subdirs: string[] = [];
    for (const e of ents) {
      const name = String(e.name);
      const p = d.endsWith("/") ? d + name : `${d}/${name}`;
      if (e.isDirectory()) subdirs.push(p);
      else if ((e.isFile() || e.isSymbolicLink()) && name.endsWith(".pid")) {
        if (files.length >= limits.files) { truncated = true; return; }
        files.push(p);
      }
    }
    if (depth >= limits.depth) { if (subdirs.length) truncated = true; return; }
    for (const s of subdirs) {
      await yieldToLoop();
      await walk(s, depth + 1);
      if (files.length >= limits.files) { truncated = true; return; }
    }
  };
  await walk(dir, 0);
  files.sort();
  return { files, truncated };
}

/** Is the configured path a directory (following symlinks: the admin named it)? */
export function isDirectory(path: string): boolean {
  try {
    return statSync(bytesPath(path)).isDirectory();
  } catch {
    return false;
  }
}

/** lstat wrapper used by tests and diagnostics. */
export function exists(path: string): boolean {
  try {
    lstatSync(bytesPath(path));
    return true;
  } catch {
    return false;
  }
}

export const showPath = escapeLatin1;
