// Mail delivery through nodemailer: SMTP or the local sendmail program.
//
// SMTP: plain connection to smtp.host:smtp.port (implicit TLS on port 465),
// STARTTLS whenever the server offers it. The certificate (`smtptls`):
//   auto    verified against the system CA store (/etc/ssl/certs/
//           ca-certificates.crt; Bun's bundled roots where it is missing) and
//           the relay's name — except for a relay on loopback (localhost,
//           127.0.0.0/8, ::1), which only root could impersonate and which is
//           often a local MTA with a self-signed certificate;
//   verify  verified, loopback included;
//   FILE    exactly the certificate in FILE is trusted (a self-signed relay,
//           pinned), whatever name it bears.
// A password (smtpuser/smtppass) is never sent in clear to a relay off
// loopback: STARTTLS is then required.
// Timeouts: 30 s connect/greeting/DNS, 60 s idle socket, 3 min for the whole
// delivery.
//
// Body: plain 7bit or 8bit text when every line fits (plainMessage), as
// logcheck's mails are; quoted-printable (nodemailer's choice) otherwise.
//
// sendmail: nodemailer spawns `PATH -i -f FROM RCPT...` with an argument
// vector (no shell) and the message on stdin; exit status 0 = accepted.
//
// send() resolves { ok: true } only when the server (or sendmail) accepted the
// message for at least one recipient. Recipients refused while others were
// accepted are reported in `rejected` (not retried: the others have it).
import { readFileSync } from "node:fs";
import { isLoopback } from "../util/net.ts";
import { hostname } from "node:os";
import nodemailer from "nodemailer";
import type { Config } from "../config/config.ts";
import { safeHost } from "./format.ts";

export interface OutgoingMail {
  subject: string;
  text: string;
  /** extra header lines (printable ASCII names and values: src/chain/stamp.ts) */
  headers?: Record<string, string>;
}

export type SendResult = { ok: true; response: string; rejected: string[] } | { ok: false; error: string };

export interface Mailer {
  /** "smtp HOST:PORT" or "sendmail PATH" */
  readonly describe: string;
  send(mail: OutgoingMail): Promise<SendResult>;
  close(): void;
}

export const SEND_TIMEOUT = 180_000;

/** The mail settings that matter for the transport (to tell whether a reload changed them). */
export function mailSettingsKey(c: Config): string {
  return JSON.stringify([c.email, c.mailfrom, c.smtp, c.smtpuser, c.smtppass, c.sendmail]);
}

export function localHost(): string {
  return safeHost(hostname());
}

/** The envelope and header sender: mailfrom, or integrityd@HOSTNAME. */
export function mailFrom(c: Config, host = localHost()): string {
  return c.mailfrom !== "" ? c.mailfrom : `integrityd@${safeHost(host)}`;
}

/** A one-line, printable, bounded error text (server replies are foreign input). */
export function oneLine(s: unknown, max = 500): string {
  const t = String(s).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ").trim();
  return t.length > max ? `${t.slice(0, max)}...` : t;
}

const SYSTEM_CA = "/etc/ssl/certs/ca-certificates.crt";


/** TLS options for `smtptls` (see the header). Throws when a pinned certificate cannot be read. */
export function tlsOptions(mode: string, host: string): Record<string, unknown> {
  const base = { minVersion: "TLSv1.2" };
  if (mode.startsWith("/")) return { ...base, rejectUnauthorized: true, ca: [readFileSync(mode)], checkServerIdentity: () => undefined };
  if (mode === "auto" && isLoopback(host)) return { ...base, rejectUnauthorized: false };
  let ca: Buffer[] | undefined;
  try {
    ca = [readFileSync(SYSTEM_CA)];
  } catch {
    ca = undefined; // Bun's bundled roots
  }
  return { ...base, rejectUnauthorized: true, ...(ca ? { ca } : {}) };
}

/** At most this many bytes on a line of an 8bit body (RFC 5322's 998, with room). */
const PLAIN_LINE_MAX = 990;

/**
 * The message as plain text, 7bit (ASCII) or 8bit (UTF-8), as logcheck's mails
 * are: what `mail` and `mailx` users read without decoding. Null when a line is
 * too long for that or a byte could confuse a relay (NUL, CR), or the subject
 * is not ASCII: nodemailer then picks quoted-printable.
 */
export function plainMessage(mail: OutgoingMail, from: string, to: readonly string[], host: string): string | null {
  const body = mail.text.endsWith("\n") ? mail.text : `${mail.text}\n`;
  if (/[\u0000\r]/.test(body) || !/^[\x20-\x7e]*$/.test(mail.subject)) return null;
  for (const line of body.split("\n")) if (Buffer.byteLength(line, "utf8") > PLAIN_LINE_MAX) return null;
  const ascii = /^[\x00-\x7f]*$/.test(body);
  const id = `${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 10)}@${safeHost(host)}`;
  return [
    `From: integrityd <${from}>`,
    `To: ${to.join(", ")}`,
    `Subject: ${mail.subject}`,
    `Date: ${new Date().toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <${id}>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    `Content-Transfer-Encoding: ${ascii ? "7bit" : "8bit"}`,
    "Auto-Submitted: auto-generated",
    "X-Mailer: integrityd",
    ...Object.entries(mail.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
    "",
    body,
  ].join("\n");
}

export function createMailer(config: Config, opts: { host?: string; timeout?: number } = {}): Mailer | null {
  if (config.email.length === 0) return null;
  const host = opts.host ?? localHost();
  const from = mailFrom(config, host);
  const timeout = opts.timeout ?? SEND_TIMEOUT;
  // nodemailer's transports are created per configuration; the types of the
  // two option shapes differ, so keep the instance loosely typed here.
  let transport: ReturnType<typeof nodemailer.createTransport>;
  let describe: string;
  if (config.sendmail !== "") {
    transport = nodemailer.createTransport({ sendmail: true, path: config.sendmail, newline: "unix", logger: false, disableFileAccess: true, disableUrlAccess: true });
    describe = `sendmail ${config.sendmail}`;
  } else {
    const { host: smtpHost, port } = config.smtp;
    transport = nodemailer.createTransport({
      host: smtpHost,
      port,
      secure: port === 465,
      ignoreTLS: false,
      requireTLS: config.smtpuser !== "" && !isLoopback(smtpHost),
      name: host,
      auth: config.smtpuser !== "" ? { user: config.smtpuser, pass: config.smtppass } : undefined,
      connectionTimeout: 30_000,
      greetingTimeout: 30_000,
      dnsTimeout: 30_000,
      socketTimeout: 60_000,
      tls: tlsOptions(config.smtptls, smtpHost),
      logger: false,
      debug: false,
      disableFileAccess: true,
      disableUrlAccess: true,
    });
    describe = `smtp ${smtpHost.includes(":") ? `[${smtpHost}]` : smtpHost}:${port}`;
  }

  return {
    describe,
    async send(mail: OutgoingMail): Promise<SendResult> {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const raw = plainMessage(mail, from, config.email, host);
        const sending = raw !== null
          ? transport.sendMail({ envelope: { from, to: config.email }, raw })
          : transport.sendMail({
              from: { name: "integrityd", address: from },
              to: config.email,
              subject: mail.subject,
              text: mail.text,
              headers: { "Auto-Submitted": "auto-generated", "X-Mailer": "integrityd", ...mail.headers },
            });
        const expired = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(timeout / 1000)} s`)), timeout);
        });
        const info = (await Promise.race([sending, expired])) as { accepted?: unknown[]; rejected?: unknown[]; response?: string };
        const addr = (a: unknown) => (typeof a === "string" ? a : String((a as { address?: string })?.address ?? a));
        const accepted = Array.isArray(info.accepted) ? info.accepted.map(addr) : undefined;
        const rejected = Array.isArray(info.rejected) ? info.rejected.map(addr) : [];
        if (accepted !== undefined && accepted.length === 0 && config.sendmail === "") {
          return { ok: false, error: `${describe}: no recipient accepted (${oneLine(rejected.join(", "))})` };
        }
        return { ok: true, response: oneLine(info.response ?? ""), rejected };
      } catch (e) {
        const err = e as { message?: string; code?: string; responseCode?: number };
        const code = [err.code, err.responseCode].filter((x) => x !== undefined).join(" ");
        return { ok: false, error: `${describe}: ${oneLine(err.message ?? e)}${code ? ` (${oneLine(code, 40)})` : ""}` };
      } finally {
        if (timer) clearTimeout(timer);
      }
    },
    close() {
      try {
        transport.close();
      } catch {
        // nothing to release
      }
    },
  };
}
