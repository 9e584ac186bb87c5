// Running a piece of one-off bulk work in a child process that is this same
// program, so that the daemon never holds the work's memory: a rule compile
// (rules/child.ts), the daily package backfill (packages/backfillchild.ts).
// The garbage of such work is freed by the collector, but the allocator keeps
// the pages, and a daemon that did it once would rest tens of MiB higher for
// the rest of its life; a child returns every page when it exits.
//
// The child is /proc/self/exe (the same build even after an upgrade replaced
// the file, so what it answers is what this process expects), started with an
// argument array - its job's INTERNAL argument first - no shell and an empty
// environment. It reads its job on stdin and writes its answer on stdout;
// main.ts dispatches on the argument before anything else runs, and
// childMain() is the child's whole life; it asks the kernel to end it when
// the daemon dies (PR_SET_PDEATHSIG), so no child outlives a kill -9. Whatever the child starts in turn
// (gpgv, dpkg-deb) gets pipes of its own, never the child's stdout/stderr.
//
// runChild never leaves a child behind: whatever ends the wait (an answer, a
// failure, the time limit, an abort), a child still running is killed and
// reaped before it returns or throws.
//
// Only a compiled binary (or `bun src/main.ts`) can start itself; under a
// test runner selfCommand() is null and callers do the work in the process.

import { dlopen, FFIType } from "bun:ffi";

const PR_SET_PDEATHSIG = 1;
const SIGTERM = 15;

/** How this program starts itself, or null when it cannot (under a test runner). */
export function selfCommand(main = Bun.main): string[] | null {
  if (main.startsWith("/$bunfs/")) return ["/proc/self/exe"];
  if (/\/src\/main\.ts$/.test(main)) return ["/proc/self/exe", main];
  return null;
}

/** The child could not be started at all (no executable, no process): the caller may do the work itself. */
export class ChildStartError extends Error {}

/** After the child exits, how long its pipes may stay open (held by something it started). */
const PIPE_GRACE_MS = 2_000;

/**
 * Run `command` + `arg` with `input` on stdin; its stdout when it exits 0
 * within `limitMs` with at most `maxOut` bytes. Otherwise throws an Error
 * saying why: "it exited with 1: first line of its stderr", "it exited with
 * SIGKILL" (past its time), "it exited with SIGTERM" (`signal` aborted), "its
 * output is too large"; ChildStartError when it could not be started.
 */
export async function runChild(command: readonly string[], arg: string, input: string, limitMs: number, maxOut: number, signal?: AbortSignal): Promise<Uint8Array> {
  let proc;
  try {
    proc = Bun.spawn([...command, arg], { stdin: "pipe", stdout: "pipe", stderr: "pipe", env: {} });
  } catch (e) {
    throw new ChildStartError((e as Error).message);
  }
  const timer = setTimeout(() => proc.kill("SIGKILL"), limitMs);
  const stop = () => proc.kill("SIGTERM");
  if (signal?.aborted) stop();
  signal?.addEventListener("abort", stop);
  const status = () => `it exited with ${proc.signalCode ?? proc.exitCode}`;
  try {
    try {
      proc.stdin.write(input);
      await proc.stdin.end();
    } catch {
      // it stopped reading (it died, or wanted no input): its exit says more than EPIPE
    }
    let tooLarge = false;
    const out = readCapped(proc.stdout, maxOut, () => {
      tooLarge = true;
      proc.kill("SIGKILL");
    });
    const err = new Response(proc.stderr).text();
    const code = await proc.exited;
    // its pipes end with it, unless something it started still holds them
    const grace = new Promise<null>((r) => setTimeout(() => r(null), PIPE_GRACE_MS).unref());
    const [o, e] = await Promise.all([Promise.race([out, grace]), Promise.race([err, grace])]);
    if (tooLarge) throw new Error("its output is too large");
    if (o === null && code === 0) throw new Error("its output did not end");
    if (code !== 0) throw new Error(`${status()}${e?.trim() ? `: ${e.trim().split("\n")[0]!.slice(0, 200)}` : ""}`);
    return o!;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", stop);
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGKILL");
      await proc.exited;
    }
  }
}

/** stdout up to `max` bytes; null (and `tooMuch()`) beyond. */
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

/** Ask the kernel for SIGTERM when our parent dies (prctl PR_SET_PDEATHSIG); where that cannot be asked, callers' own checks remain. */
function dieWithParent(): void {
  try {
    const l = dlopen("libc.so.6", { prctl: { args: [FFIType.i32, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64], returns: FFIType.i32 } });
    l.symbols.prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    l.close();
  } catch {
    // no libc here: the backfill's between-package check still stops an orphan
  }
}

/**
 * The child's whole life: its job is the JSON on stdin, `job` does it and
 * gives the answer, which goes to stdout; exit 0. Any failure: its message on
 * stderr (the parent's error says it), exit 1.
 */
export async function childMain(job: (input: unknown) => Promise<Uint8Array | string>): Promise<number> {
  const parent = process.ppid;
  dieWithParent();
  if (process.ppid !== parent) return 1; // the parent died before the request took hold
  try {
    const input: unknown = JSON.parse(await new Response(Bun.stdin.stream()).text());
    await Bun.write(Bun.stdout, await job(input));
    return 0;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
}
