// Start the real binary as a daemon and read its output as it comes.
import type { Subprocess } from "bun";
import { BIN, ensureBinary } from "./binary.ts";

export class DaemonProc {
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  stdout = "";
  stderr = "";
  private waiters: (() => void)[] = [];

  constructor(args: string[], env: Record<string, string> = {}) {
    ensureBinary();
    this.proc = Bun.spawn([BIN, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env } });
    void this.pump(this.proc.stdout, (s) => (this.stdout += s));
    void this.pump(this.proc.stderr, (s) => (this.stderr += s));
  }

  private async pump(stream: ReadableStream<Uint8Array>, add: (s: string) => void) {
    const dec = new TextDecoder();
    for await (const chunk of stream) {
      add(dec.decode(chunk, { stream: true }));
      for (const w of this.waiters.splice(0)) w();
    }
  }

  /** Wait until pred() holds, checking on every output chunk and every 50 ms; throws after timeoutMs. */
  async until(pred: () => boolean, timeoutMs = 10000, what = "condition"): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  }

  async waitFor(re: RegExp, stream: "stdout" | "stderr" = "stderr", timeoutMs = 10000): Promise<void> {
    await this.until(() => re.test(this[stream]), timeoutMs, `${re} on ${stream}`);
  }

  kill(sig: NodeJS.Signals | number = "SIGTERM"): void {
    this.proc.kill(sig);
  }

  get exited(): Promise<number> {
    return this.proc.exited;
  }
}
