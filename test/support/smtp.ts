// A real SMTP server on 127.0.0.1 (npm smtp-server) that records every message
// it accepts and how (TLS, user), with the MIME body decoded. Shared by the
// report module's tests and the end-to-end daemon tests.
import { SMTPServer } from "smtp-server";

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

  /** tls: the STARTTLS key and certificate (default: smtp-server's built-in self-signed pair) */
  constructor(private readonly opts: { user?: string; pass?: string; starttls?: boolean; tls?: { key: Buffer; cert: Buffer } } = {}) {}

  async start(port = 0): Promise<number> {
    const auth = this.opts.user !== undefined;
    const disabled: string[] = [];
    if (!auth) disabled.push("AUTH");
    if (this.opts.starttls === false) disabled.push("STARTTLS");
    this.server = new SMTPServer({
      ...(this.opts.tls ?? {}),
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

/** The name the end-to-end tests use. */
export { Smtp as TestSmtp };
