// Test helpers for the report module: a real SMTP server (npm smtp-server) on
// 127.0.0.1 that records what it accepted and how, MIME body decoding, temp
// databases and configurations.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";
import { type Config, defaultConfig } from "../../src/config/config.ts";
import { initDatabase, openDatabase } from "../../src/db/db.ts";

export interface Got {
  from: string;
  to: string[];
  subject: string;
  headers: string;
  body: string; // decoded, LF line ends
  secure: boolean; // the session ran over TLS (STARTTLS)
  user: string;
  at: number; // Date.now() when the message was accepted
}

/** Decode a single-part text body: quoted-printable, base64 or 7bit/8bit. */
export function decodeBody(headers: string, rawBody: string): string {
  const enc = /^Content-Transfer-Encoding:\s*(\S+)/im.exec(headers)?.[1].toLowerCase() ?? "7bit";
  let bytes: Buffer;
  if (enc === "base64") bytes = Buffer.from(rawBody.replace(/\s+/g, ""), "base64");
  else if (enc === "quoted-printable") {
    const s = rawBody.replace(/=\r?\n/g, "");
    const out: number[] = [];
    for (let i = 0; i < s.length; i++) {
      if (s[i] === "=" && /^[0-9A-F]{2}$/i.test(s.slice(i + 1, i + 3))) {
        out.push(parseInt(s.slice(i + 1, i + 3), 16));
        i += 2;
      } else out.push(...Buffer.from(s[i], "utf8"));
    }
    bytes = Buffer.from(out);
  } else bytes = Buffer.from(rawBody, "utf8");
  return bytes.toString("utf8").replace(/\r\n/g, "\n");
}

export class Smtp {
  readonly mails: Got[] = [];
  authFailures = 0;
  port = 0;
  private server: SMTPServer | null = null;

  constructor(private readonly opts: { user?: string; pass?: string; starttls?: boolean } = {}) {}

  async start(port = 0): Promise<number> {
    const auth = this.opts.user !== undefined;
    const disabled: string[] = [];
    if (!auth) disabled.push("AUTH");
    if (this.opts.starttls === false) disabled.push("STARTTLS");
    this.server = new SMTPServer({
      secure: false,
      disabledCommands: disabled,
      allowInsecureAuth: true,
      authOptional: !auth,
      logger: false,
      onAuth: (a, _s, cb) => {
        if (a.username === this.opts.user && a.password === this.opts.pass) cb(null, { user: a.username });
        else {
          this.authFailures++;
          cb(new Error("Invalid username or password"));
        }
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          const raw = Buffer.concat(chunks).toString("utf8");
          const split = raw.indexOf("\r\n\r\n");
          const headers = raw.slice(0, split);
          const subject = /^Subject: (.*(?:\r\n[ \t].*)*)/im.exec(headers)?.[1].replace(/\r\n[ \t]/g, " ") ?? "";
          this.mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            to: session.envelope.rcptTo.map((r) => r.address),
            subject,
            headers,
            body: decodeBody(headers, raw.slice(split + 4)),
            secure: session.secure,
            user: String(session.user ?? ""),
            at: Date.now(),
          });
          cb();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(port, "127.0.0.1", () => resolve());
    });
    this.port = (this.server.server.address() as { port: number }).port;
    return this.port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

/** A port nothing listens on (bound once, then released). */
export async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = s.port;
  s.stop(true);
  return p;
}

export function tempDir(prefix = "integrityd-report-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function tempDb(dir: string) {
  const path = join(dir, "db.sqlite");
  initDatabase(path);
  return openDatabase(path);
}

export function testConfig(dir: string, over: Partial<Config> = {}): Config {
  return {
    ...defaultConfig(join(dir, "integrityd.conf")),
    database: join(dir, "db.sqlite"),
    email: ["admin@example.org"],
    mailfrom: "integrityd@test.example",
    reporttime: 0,
    reportholdoff: 0,
    logreporttime: 0,
    logreportholdoff: 0,
    ...over,
  };
}

/** Wait until cond() holds, polling; fails after `ms`. */
export async function until(cond: () => boolean, ms = 10_000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}
