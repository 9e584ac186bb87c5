import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createMailer, mailFrom, tlsOptions } from "../../src/report/mail.ts";
import { isLoopback } from "../../src/util/net.ts";
import { freePort, Smtp, tempDir, testConfig } from "./helpers.ts";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe("SMTP transport", () => {
  const server = new Smtp();
  beforeAll(async () => {
    await server.start();
  });
  afterAll(() => server.stop());

  test("accepted mail: envelope, headers, STARTTLS, lone dot and a 10,000-char line intact", async () => {
    const config = testConfig(tmp.dir, { smtp: { host: "127.0.0.1", port: server.port }, email: ["a@example.org", "b@example.org"] });
    const m = createMailer(config, { host: "testhost" })!;
    const long = "x".repeat(10_000);
    const text = `first\n.\n..\n${long}\nlast\n`;
    const r = await m.send({ subject: "integrityd testhost: 1 file, 0 log, 0 process events", text });
    m.close();
    expect(r.ok).toBe(true);
    expect(server.mails.length).toBe(1);
    const got = server.mails[0];
    expect(got.from).toBe("integrityd@test.example");
    expect(got.to).toEqual(["a@example.org", "b@example.org"]);
    expect(got.subject).toBe("integrityd testhost: 1 file, 0 log, 0 process events");
    expect(got.secure).toBe(true); // STARTTLS was offered and used
    expect(got.headers).toMatch(/^Auto-Submitted: auto-generated$/m);
    expect(got.body).toBe(text);
  });

  test("a report with ordinary lines goes as plain 7bit or 8bit text, as logcheck's mails do (no quoted-printable)", async () => {
    const config = testConfig(tmp.dir, { smtp: { host: "127.0.0.1", port: server.port } });
    const m = createMailer(config, { host: "testhost" })!;
    const before = server.mails.length;
    const ascii = "System Events (1)\n=-=-=-=-=-=-=-=-=\n\n  sshd[1]: a=b\n.\n";
    expect((await m.send({ subject: "integrityd: 1 log line on testhost", text: ascii })).ok).toBe(true);
    const utf8 = "Changed: /etc/naïve\n";
    expect((await m.send({ subject: "integrityd: 1 changed file on testhost", text: utf8 })).ok).toBe(true);
    m.close();
    const [a, u] = server.mails.slice(before);
    expect(a.headers).toMatch(/^Content-Transfer-Encoding: 7bit$/m);
    expect(a.body).toBe(ascii);
    expect(a.headers).toMatch(/^Auto-Submitted: auto-generated$/m);
    expect(a.headers).toMatch(/^Date: /m);
    expect(u.headers).toMatch(/^Content-Transfer-Encoding: 8bit$/m);
    expect(u.body).toBe(utf8);
  });

  test("default sender is integrityd@HOSTNAME", () => {
    const c = testConfig(tmp.dir, { mailfrom: "" });
    expect(mailFrom(c, "web1")).toBe("integrityd@web1");
    expect(mailFrom(c, "we b\r\n1")).toBe("integrityd@web1");
  });

  test("no server: failure with a one-line reason", async () => {
    const port = await freePort();
    const m = createMailer(testConfig(tmp.dir, { smtp: { host: "127.0.0.1", port } }))!;
    const r = await m.send({ subject: "s", text: "t" });
    m.close();
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toContain(`smtp 127.0.0.1:${port}`);
      expect(r.error).not.toContain("\n");
    }
  });

  test("mail off: no mailer", () => {
    expect(createMailer(testConfig(tmp.dir, { email: [] }))).toBeNull();
  });
});

describe("SMTP auth", () => {
  const server = new Smtp({ user: "alice", pass: "s3cret" });
  beforeAll(async () => {
    await server.start();
  });
  afterAll(() => server.stop());

  test("good credentials: accepted; bad: refused and reported", async () => {
    const good = createMailer(testConfig(tmp.dir, { smtp: { host: "127.0.0.1", port: server.port }, smtpuser: "alice", smtppass: "s3cret" }))!;
    expect((await good.send({ subject: "s", text: "t" })).ok).toBe(true);
    good.close();
    expect(server.mails[0].user).toBe("alice");
    const bad = createMailer(testConfig(tmp.dir, { smtp: { host: "127.0.0.1", port: server.port }, smtpuser: "alice", smtppass: "wrong" }))!;
    const r = await bad.send({ subject: "s", text: "t" });
    bad.close();
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/auth|Invalid/i);
    expect(server.authFailures).toBe(1);
    expect(server.mails.length).toBe(1);
  });
});

describe("sendmail transport", () => {
  test("stand-in sendmail gets argv (no shell) and the message on stdin", async () => {
    const out = join(tmp.dir, "sendmail.out");
    const script = join(tmp.dir, "sendmail");
    writeFileSync(script, `#!/bin/sh\nprintf '%s\\n' "$@" > '${out}.argv'\ncat > '${out}'\nexit 0\n`);
    chmodSync(script, 0o755);
    const m = createMailer(testConfig(tmp.dir, { sendmail: script, email: ["root@localhost", "ops@example.org"] }))!;
    expect(m.describe).toBe(`sendmail ${script}`);
    const r = await m.send({ subject: "integrityd h: 0 file, 1 log, 0 process events", text: "hello\n.\nworld\n" });
    m.close();
    expect(r.ok).toBe(true);
    expect(readFileSync(`${out}.argv`, "utf8").split("\n")).toEqual(["-i", "-f", "integrityd@test.example", "root@localhost", "ops@example.org", ""]);
    const msg = readFileSync(out, "utf8");
    expect(msg).toContain("Subject: integrityd h: 0 file, 1 log, 0 process events\n");
    expect(msg).not.toContain("\r\n");
    expect(msg).toContain("\n\nhello\n.\nworld\n");
  });

  test("sendmail failing: not accepted", async () => {
    const script = join(tmp.dir, "sendmail-fail");
    writeFileSync(script, "#!/bin/sh\ncat >/dev/null\nexit 75\n");
    chmodSync(script, 0o755);
    const m = createMailer(testConfig(tmp.dir, { sendmail: script }))!;
    const r = await m.send({ subject: "s", text: "t" });
    m.close();
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain("75");
    const missing = createMailer(testConfig(tmp.dir, { sendmail: join(tmp.dir, "does-not-exist") }))!;
    expect((await missing.send({ subject: "s", text: "t" })).ok).toBe(false);
    missing.close();
  });
});

describe("STARTTLS certificates", () => {
  // a relay with a self-signed certificate, made by the real openssl
  const dir = join(tmp.dir, "tls");
  let server: Smtp;
  let certFile = "";
  let otherCert = "";
  beforeAll(async () => {
    mkdirSync(dir);
    const mk = (name: string) => {
      const r = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, `${name}.key`), "-out", join(dir, `${name}.pem`), "-days", "2", "-subj", "/CN=relay.example"], { stderr: "pipe" });
      if (r.exitCode !== 0) throw new Error(`openssl: ${r.stderr.toString()}`);
      return join(dir, `${name}.pem`);
    };
    certFile = mk("relay");
    otherCert = mk("other");
    server = new Smtp({ tls: { key: readFileSync(join(dir, "relay.key")), cert: readFileSync(certFile) } });
    await server.start();
  });
  afterAll(() => server.stop());

  const send = async (smtptls: string) => {
    const m = createMailer(testConfig(tmp.dir, { smtp: { host: "127.0.0.1", port: server.port }, smtptls }), { host: "testhost" })!;
    const r = await m.send({ subject: "s", text: "t\n" });
    m.close();
    return r;
  };

  test("verify: a self-signed relay is refused (nothing is sent)", async () => {
    const before = server.mails.length;
    const r = await send("verify");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/self.signed|certificate/i);
    expect(server.mails.length).toBe(before);
  });

  test("a pinned certificate is trusted, another one is not", async () => {
    expect((await send(certFile)).ok).toBe(true);
    const r = await send(otherCert);
    expect(r.ok).toBe(false);
  });

  test("auto: a relay on loopback is used unverified; off loopback it would be verified", async () => {
    expect((await send("auto")).ok).toBe(true);
    expect(tlsOptions("auto", "127.0.0.1").rejectUnauthorized).toBe(false);
    expect(tlsOptions("auto", "mail.example.org").rejectUnauthorized).toBe(true);
    expect(isLoopback("::1")).toBe(true);
    expect(isLoopback("127.10.0.1")).toBe(true);
    expect(isLoopback("128.0.0.1")).toBe(false);
    expect(isLoopback("localhost.evil.example")).toBe(false);
  });
});
