// A real SMTP server on 127.0.0.1 (npm smtp-server) that keeps every message it accepts.
import { SMTPServer } from "smtp-server";

export interface Received {
  from: string;
  to: string[];
  raw: string;
  subject: string;
  body: string;
}

/** Undo the transfer encoding a mailer chose (quoted-printable or base64). */
function decodeBody(head: string, body: string): string {
  const cte = /^Content-Transfer-Encoding:\s*(\S+)/im.exec(head)?.[1].toLowerCase();
  if (cte === "base64") return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (cte !== "quoted-printable") return body;
  const bytes: number[] = [];
  const s = body.replace(/=\r?\n/g, "");
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "=" && /^[0-9A-F]{2}$/i.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(s[i], "utf8"));
  }
  return Buffer.from(bytes).toString("utf8");
}

export class TestSmtp {
  readonly mails: Received[] = [];
  port = 0;
  private server: SMTPServer | null = null;
  /** When set, refuse every message with a temporary error. */
  refuse = false;

  constructor(private readonly opts: { user?: string; pass?: string } = {}) {}

  async start(port = 0): Promise<number> {
    const auth = this.opts.user !== undefined;
    this.server = new SMTPServer({
      secure: false,
      disabledCommands: auth ? [] : ["AUTH"],
      allowInsecureAuth: true,
      authOptional: !auth,
      logger: false,
      onAuth: (a, _s, cb) => {
        if (a.username === this.opts.user && a.password === this.opts.pass) cb(null, { user: a.username });
        else cb(new Error("Invalid username or password"));
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          if (this.refuse) return cb(Object.assign(new Error("try again later"), { responseCode: 451 }));
          const raw = Buffer.concat(chunks).toString("utf8");
          const split = raw.indexOf("\r\n\r\n");
          const head = raw.slice(0, split);
          const subject = /^Subject: (.*(?:\r\n[ \t].*)*)/im.exec(head)?.[1].replace(/\r\n[ \t]/g, " ") ?? "";
          this.mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            to: session.envelope.rcptTo.map((r) => r.address),
            raw,
            subject,
            body: decodeBody(head, raw.slice(split + 4)).replace(/\r\n/g, "\n"),
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
