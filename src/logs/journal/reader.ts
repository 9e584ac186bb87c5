// The journalctl child: its arguments (pure) and its process. journalctl is
// run with an argument array (never a shell); match values from the config
// are single arguments after the options, and every one of them starts with
// an upper-case field name (config/journal.ts), so none is taken for an
// option. Its environment is fixed (C locale, no pager, no colours).
//
//   follow from a cursor:  journalctl -o export --follow --no-tail --no-pager [--directory=D] --cursor=C [MATCHES]
//   from the beginning:    the same without --cursor (the journal was empty at first start)
//   the end (first start): journalctl -o export --no-pager [--directory=D] --lines=1 [MATCHES]
//
// --cursor (not --after-cursor) so that the stored entry itself comes first
// and proves continuity (cursor.ts). --no-tail is needed: with --follow,
// journalctl 252 implies --lines=10, and with a cursor it then prints the
// first 10 entries after it and silently skips the rest of the backlog
// (found by test/logs/journal/task.test.ts).
import { existsSync } from "node:fs";
import type { JournalSpec } from "../../config/journal.ts";
import { ExportParser } from "./export.ts";

/** The journalctl program (merged /usr or not). */
export const JOURNALCTL = ["/usr/bin/journalctl", "/bin/journalctl"].find((p) => existsSync(p)) ?? "/usr/bin/journalctl";

const ENV = { PATH: "/usr/bin:/bin", LC_ALL: "C", SYSTEMD_COLORS: "0", SYSTEMD_PAGER: "", SYSTEMD_LESS: "" };

const where = (spec: JournalSpec) => (spec.directory !== null ? [`--directory=${spec.directory}`] : []);

/** Arguments to follow `spec` from `cursor` ("" : from the journal's beginning). */
export function followArgs(spec: JournalSpec, cursor: string, program = JOURNALCTL): string[] {
  return [program, "-o", "export", "--follow", "--no-tail", "--no-pager", ...where(spec), ...(cursor === "" ? [] : [`--cursor=${cursor}`]), ...spec.matches];
}

/** Arguments to print the last entry of `spec` (first start: its end). */
export function lastEntryArgs(spec: JournalSpec, program = JOURNALCTL): string[] {
  return [program, "-o", "export", "--no-pager", ...where(spec), "--lines=1", ...spec.matches];
}

export interface Child {
  stdout: ReadableStream<Uint8Array>;
  exited: Promise<number>;
  /** what it wrote to stderr (resolves after exit) */
  stderr: Promise<string>;
  kill(): void;
}

/** Start journalctl; each stderr line goes to `onError` as it comes. */
export function spawnJournalctl(args: string[], onError: (line: string) => void = () => {}): Child {
  const p = Bun.spawn(args, { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: ENV });
  const stderr = (async () => {
    let all = "";
    let part = "";
    const dec = new TextDecoder();
    for await (const c of p.stderr as ReadableStream<Uint8Array>) {
      const t = dec.decode(c, { stream: true });
      if (all.length < 4096) all += t;
      part += t;
      let nl: number;
      while ((nl = part.indexOf("\n")) >= 0) {
        const line = part.slice(0, nl).trim();
        part = part.slice(nl + 1);
        if (line) onError(line);
      }
      if (part.length > 4096) part = part.slice(0, 4096);
    }
    if (part.trim()) onError(part.trim());
    return all.trim();
  })();
  return {
    stdout: p.stdout as ReadableStream<Uint8Array>,
    exited: p.exited,
    stderr,
    kill: () => {
      try {
        p.kill("SIGTERM");
      } catch {
        /* gone */
      }
    },
  };
}

/** The last entry's cursor and time, null for an empty journal, or the error journalctl gave (a failure, or nothing but a complaint). */
export async function lastEntry(spec: JournalSpec): Promise<{ cursor: string; realtime: number } | null | { error: string }> {
  const child = spawnJournalctl(lastEntryArgs(spec));
  const parser = new ExportParser();
  let last: { cursor: string; realtime: number } | null = null;
  for await (const chunk of child.stdout) {
    for (const e of parser.push(chunk)) {
      const c = e.text("__CURSOR");
      if (c) last = { cursor: c, realtime: Number(e.text("__REALTIME_TIMESTAMP") ?? 0) || 0 };
    }
  }
  const code = await child.exited;
  const err = await child.stderr;
  // nothing and a complaint (no journal files opened: permissions) is not an empty journal
  if (code !== 0 || (last === null && err !== "")) return { error: `journalctl exited with status ${code}${err ? `: ${err.split("\n")[0]}` : ""}` };
  return last;
}
