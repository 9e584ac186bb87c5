// Real rsyslogd instances for shipping tests (Debian's package): each runs in
// the foreground as a child process (`rsyslogd -n -f CONF -i PIDFILE`) with
// its own configuration, pid file and work directory under a temp dir; no
// systemd, no /dev/log (the system socket is off). `rsyslogAvailable()` says
// why a test must skip.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const RSYSLOGD = "/usr/sbin/rsyslogd";

export function rsyslogAvailable(): string | null {
  if (!existsSync(RSYSLOGD)) return "rsyslogd is not installed (Debian package rsyslog)";
  if (!existsSync("/usr/lib/x86_64-linux-gnu/rsyslog/omrelp.so") && !existsSync("/usr/lib/rsyslog/omrelp.so")) return "rsyslog's RELP modules are not installed (Debian package rsyslog-relp)";
  return null;
}

/** The text of a shipped snippet (etc/rsyslog/NAME) with its placeholders replaced. */
export function snippet(name: string, replace: [string, string][]): string {
  let s = readFileSync(join(import.meta.dir, "../../etc/rsyslog", name), "utf8");
  for (const [a, b] of replace) {
    if (!s.includes(a)) throw new Error(`${name} does not contain '${a}'`);
    s = s.replaceAll(a, b);
  }
  return s;
}

export class Rsyslogd {
  private proc: ReturnType<typeof Bun.spawn> | null = null;
  readonly conf: string;
  readonly pidfile: string;
  readonly work: string;
  stderr = "";

  /** dir: this instance's own directory; body: the configuration after its global() and module lines. */
  constructor(readonly dir: string, body: string, modules: string) {
    this.work = join(dir, "work");
    mkdirSync(this.work, { recursive: true });
    this.conf = join(dir, "rsyslog.conf");
    this.pidfile = join(dir, "rsyslogd.pid");
    writeFileSync(this.conf, `global(workDirectory="${this.work}")\n${modules}\n${body}\n`);
  }

  start(): void {
    this.proc = Bun.spawn([RSYSLOGD, "-n", "-f", this.conf, "-i", this.pidfile], { stdout: "ignore", stderr: "pipe" });
    const p = this.proc;
    void (async () => {
      this.stderr += await new Response(p.stderr as ReadableStream).text().catch(() => "");
    })();
  }

  get running(): boolean {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** SIGTERM, and wait for the exit (rsyslogd saves its queues on the way). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    this.proc = null;
    p.kill("SIGTERM");
    const t = setTimeout(() => p.kill("SIGKILL"), 15_000);
    await p.exited;
    clearTimeout(t);
  }
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, who?: Rsyslogd, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((resolve) => {
      Bun.connect({ hostname: "127.0.0.1", port, socket: { open(s) { s.end(); resolve(true); }, connectError() { resolve(false); }, data() {} } }).catch(() => resolve(false));
    });
    if (ok) return;
    await Bun.sleep(50);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms${who ? `; rsyslogd: ${who.stderr.trim()}` : ""}`);
}

/** An RFC 5424 line's structured data (every element's [name, value] pairs, unescaped) and MSG; null when it is not one. */
export function parse5424(line: string): { params: [string, string][]; msg: string } | null {
  const head = /^<\d{1,3}>1 \S+ \S+ \S+ \S+ \S+ /.exec(line);
  if (!head) return null;
  let i = head[0].length;
  const params: [string, string][] = [];
  if (line[i] === "-") i++;
  else {
    while (line[i] === "[") {
      const id = /^\[[^\s=\]"]+/.exec(line.slice(i));
      if (!id) return null;
      i += id[0].length;
      while (line[i] === " ") {
        const name = /^ ([^\s=\]"]{1,32})="/.exec(line.slice(i));
        if (!name) return null;
        i += name[0].length;
        let v = "";
        for (;;) {
          const c = line[i++];
          if (c === undefined) return null;
          if (c === "\\" && ['"', "\\", "]"].includes(line[i])) v += line[i++];
          else if (c === '"') break;
          else v += c;
        }
        params.push([name[1], v]);
      }
      if (line[i++] !== "]") return null;
    }
  }
  if (i < line.length && line[i] !== " ") return null;
  return { params, msg: line.slice(i + 1) };
}
