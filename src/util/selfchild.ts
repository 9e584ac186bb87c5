// Running a piece of one-off bulk work in a child process that is this same
// program, so that the daemon never holds the work's memory: a rule compile
// (rules/child.ts), the daily package backfill (packages/backfillchild.ts). The
// garbage of such work is freed by the collector, but the allocator keeps the
// pages, and a daemon that did it once would rest tens of MiB higher for the
// rest of its life; a child returns every page when it exits.
//
// The child is /proc/self/exe (the same build even after an upgrade replaced
// the file, so what it answers is what this process expects), started with an
// argument array - its job's INTERNAL argument first - no shell and an empty
// environment. It reads its job on stdin and writes its answer on stdout;
// main.ts dispatches on the argument before anything else runs.
//
// Only a compiled binary (or `bun src/main.ts`) can start itself; under a
// test runner selfCommand() is null and callers do the work in the process.

/** How this program starts itself, or null when it cannot (under a test runner). */
export function selfCommand(main = Bun.main): string[] | null {
  if (main.startsWith("/$bunfs/")) return ["/proc/self/exe"];
  if (/\/src\/main\.ts$/.test(main)) return ["/proc/self/exe", main];
  return null;
}

/**
 * Run `command` + `arg` with `input` on stdin; its stdout when it exits 0
 * within `limitMs` with at most `maxOut` bytes. Otherwise throws an Error
 * saying why ("it exited with 1: first line of its stderr", "its output is
 * too large"; a child past its time is killed and exits by SIGKILL; one
 * whose `signal` is aborted gets SIGTERM).
 */
export async function runChild(command: readonly string[], arg: string, input: string, limitMs: number, maxOut: number, signal?: AbortSignal): Promise<Uint8Array> {
  const proc = Bun.spawn([...command, arg], { stdin: "pipe", stdout: "pipe", stderr: "pipe", env: {} });
  const timer = setTimeout(() => proc.kill("SIGKILL"), limitMs);
  const stop = () => proc.kill("SIGTERM");
  if (signal?.aborted) stop();
  signal?.addEventListener("abort", stop);
  try {
    proc.stdin.write(input);
    await proc.stdin.end();
    const [out, err, code] = await Promise.all([readCapped(proc.stdout, maxOut, () => proc.kill("SIGKILL")), new Response(proc.stderr).text(), proc.exited]);
    if (out === null) throw new Error("its output is too large");
    if (code !== 0) throw new Error(`it exited with ${proc.signalCode ?? code}${err.trim() ? `: ${err.trim().split("\n")[0]!.slice(0, 200)}` : ""}`);
    return out;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", stop);
  }
}

async function readCapped(s: ReadableStream<Uint8Array>, max: number, tooMuch: () => void): Promise<Uint8Array | null> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const p of s) {
    n += p.length;
    if (n > max) {
      tooMuch();
      return null;
    }
    parts.push(p);
  }
  return Buffer.concat(parts);
}

/** The child's side: its whole stdin as text. */
export function childInput(): Promise<string> {
  return new Response(Bun.stdin.stream()).text();
}
