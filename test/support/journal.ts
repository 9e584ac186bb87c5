// Real journal files for tests: entries written in the export format and
// turned into a journal file by systemd-journal-remote (the real writer),
// read back with the real journalctl. `journalToolsMissing()` says why the
// tests cannot run here (then they print it and skip).
import { closeSync, existsSync, fstatSync, ftruncateSync, openSync } from "node:fs";

export const JOURNAL_REMOTE = ["/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote"].find((p) => existsSync(p)) ?? "";
export const JOURNALCTL = ["/usr/bin/journalctl", "/bin/journalctl"].find((p) => existsSync(p)) ?? "";

/** Why journal files cannot be built and read here, or null. */
export function journalToolsMissing(): string | null {
  if (!JOURNAL_REMOTE) return "systemd-journal-remote is not installed (Debian package systemd-journal-remote)";
  if (!JOURNALCTL) return "journalctl is not installed (Debian package systemd)";
  return null;
}

/** One entry: field → text or bytes (bytes, or text with a newline, are written as binary fields). */
export type Entry = Record<string, string | Uint8Array>;

export const BOOT = "0123456789abcdef0123456789abcdef";

/** An sshd-like entry from root with MESSAGE `msg` (every `_` field journald would add); `over` replaces fields. */
export function entry(msg: string | Uint8Array, us: number, over: Entry = {}): Entry {
  return {
    __REALTIME_TIMESTAMP: String(us), __MONOTONIC_TIMESTAMP: String(Math.max(0, us - 1_700_000_000_000_000)) /* rising with the time: journal-remote calls a file whose entries go back in monotonic time corrupted */, _BOOT_ID: BOOT,
    _HOSTNAME: "testhost", _TRANSPORT: "syslog", SYSLOG_IDENTIFIER: "sshd", SYSLOG_FACILITY: "4", PRIORITY: "6",
    _PID: "4242", _UID: "0", _GID: "0", _COMM: "sshd", _EXE: "/usr/sbin/sshd", _SYSTEMD_UNIT: "ssh.service",
    MESSAGE: msg, ...over,
  };
}

/** The export-format bytes of `entries`. */
export function exportBytes(entries: readonly Entry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    for (const [k, v] of Object.entries(e)) {
      const bytes = typeof v === "string" ? Buffer.from(v, "utf8") : Buffer.from(v);
      if (typeof v === "string" && !v.includes("\n")) parts.push(Buffer.from(`${k}=`), bytes, Buffer.from("\n"));
      else {
        const len = Buffer.alloc(8);
        len.writeBigUInt64LE(BigInt(bytes.length));
        parts.push(Buffer.from(`${k}\n`), len, bytes, Buffer.from("\n"));
      }
    }
    parts.push(Buffer.from("\n"));
  }
  return Buffer.concat(parts);
}

/**
 * Append `entries` to the journal file `file` (created when missing; its name
 * must end in .journal), then nudge it.
 */
export function writeJournal(file: string, entries: readonly Entry[]): void {
  const r = Bun.spawnSync([JOURNAL_REMOTE, `--output=${file}`, "-"], { stdin: exportBytes(entries), stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`systemd-journal-remote failed: ${r.stderr.toString()}`);
  nudge(file);
}

/**
 * What journald does after writing (its "post change"): ftruncate the file to
 * its own size, so inotify tells `journalctl --follow` (entries are written
 * through mmap, which inotify does not see). systemd-journal-remote exiting
 * right after its last write may leave a reader that looked mid-write waiting.
 */
export function nudge(file: string): void {
  const fd = openSync(file, "r+");
  try {
    ftruncateSync(fd, fstatSync(fd).size);
  } finally {
    closeSync(fd);
  }
}

/** What journalctl -o export prints for the journal directory `dir`. */
export function readExport(dir: string): Buffer {
  const r = Bun.spawnSync([JOURNALCTL, `--directory=${dir}`, "-o", "export", "--no-pager"], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`journalctl failed: ${r.stderr.toString()}`);
  return r.stdout;
}

/** The cursors journalctl gives for `dir`, in order. */
export function cursors(dir: string): string[] {
  return [...readExport(dir).toString("latin1").matchAll(/^__CURSOR=(.*)$/gm)].map((m) => m[1]);
}
