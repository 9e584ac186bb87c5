import { describe, expect, test } from "bun:test";
import { defaultConfig, parseConfig, KNOWN_KEYS } from "../../src/config/config.ts";
import { formatConfig } from "../../src/config/format.ts";

const F = "/etc/integrityd.conf";
const parse = (text: string) => parseConfig(text, F);

describe("config parser", () => {
  test("defaults when empty", () => {
    const { config, errors } = parse("");
    expect(errors).toEqual([]);
    expect(config.email).toEqual(["root@localhost"]);
    expect(config.database).toBe("/var/lib/integrityd/integrityd.sqlite");
    expect(config).toMatchObject({
      reporttime: 30, reportholdoff: 900, logreporttime: 30, logreportholdoff: 900, byterate: 262144,
      smallfiles: 131072, filerate: 1, speedup: 20, logchecktime: 30, logruleupdate: 240, pidchecktime: 30,
      hash: "sha256", crackingignore: false, syslog: false, syslogfacility: "authpriv", sendmail: "", jsonlog: "",
    });
    expect(config.smtp).toEqual({ host: "localhost", port: 25 });
  });

  test("every key of the original format and the new ones", () => {
    const text = `
# comment
email = admin@example.org, ops@example.org
database = /var/db/i.sqlite
area = /etc
area = /usr/bin   # trailing comment
exclude = /etc/mtab
exclude = /var/lib/**/*.cache
logrules = workstation:/etc/logcheck
log = /var/log/syslog
pidct = 100
pidfile = /run/sshd.pid
reporttime = 10
reportholdoff = 20
logreporttime = 3
logreportholdoff = 4
byterate = 1000
smallfiles = 2000
filerate = 0.5
speedup = 5
logchecktime = 7
logruleupdate = 8
pidchecktime = 9
hash = sha512
crackingignore = yes
mailfrom = hids@example.org
smtp = mail.example.org:587
smtpuser = u
smtppass = p#not-a-comment
smtptls = verify
jsonlog = /var/log/integrityd.json
syslog = yes
syslogfacility = local3
journal = _SYSTEMD_UNIT=ssh.service
hints = inotify
hintwatches = 77
packages = off
chainkey = /var/db/i.key
chainepoch = 60
heartbeat = 3600
syslogformat = rfc5424
syslogsocket = /run/integrityd/syslog.sock
metrics = /var/lib/prometheus/node-exporter/integrityd.prom
`;
    const { config, errors, warnings } = parse(text);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
    expect(config.email).toEqual(["admin@example.org", "ops@example.org"]);
    expect(config.database).toBe("/var/db/i.sqlite");
    expect(config.areas).toEqual(["/etc", "/usr/bin"]);
    expect(config.excludes).toEqual(["/etc/mtab", "/var/lib/**/*.cache"]);
    expect(config.logs).toEqual([{ path: "/var/log/syslog", level: "workstation", rules: "/etc/logcheck", line: 10 }]);
    expect(config.pidfiles).toEqual([{ path: "/run/sshd.pid", pidct: 100, line: 12 }]);
    expect(config).toMatchObject({
      reporttime: 10, reportholdoff: 20, logreporttime: 3, logreportholdoff: 4, byterate: 1000, smallfiles: 2000,
      filerate: 0.5, speedup: 5, logchecktime: 7, logruleupdate: 8, pidchecktime: 9, hash: "sha512",
      crackingignore: true, mailfrom: "hids@example.org", smtpuser: "u", smtppass: "p#not-a-comment", smtptls: "verify",
      jsonlog: "/var/log/integrityd.json", syslog: true, syslogfacility: "local3", packages: "off",
      chainkey: "/var/db/i.key", chainepoch: 60, heartbeat: 3600,
      syslogformat: "rfc5424", syslogsocket: "/run/integrityd/syslog.sock", metrics: "/var/lib/prometheus/node-exporter/integrityd.prom",
    });
    expect(config.smtp).toEqual({ host: "mail.example.org", port: 587 });
    expect(config.journals.map((j) => [j.source, j.level, j.line])).toEqual([["local _SYSTEMD_UNIT=ssh.service", "workstation", 34]]);
    expect(config).toMatchObject({ hints: "inotify", hintwatches: 77 });
    // every key the parser knows appears in this test
    for (const k of KNOWN_KEYS) if (k !== "sendmail") expect(text).toContain(`\n${k} =`);
  });

  test("logreport* default to the file values that were set", () => {
    const { config } = parse("reporttime = 5\nreportholdoff = 60\n");
    expect(config.logreporttime).toBe(5);
    expect(config.logreportholdoff).toBe(60);
  });

  test("logrules applies to the log lines after it; pidct to the pidfile lines after it", () => {
    const { config, errors } = parse(
      "log = /a\nlogrules = /srv/rules\nlog = /b\nlogrules = paranoid:/r2\nlog = /c\n" +
        "pidfile = /p1\npidct = 101\npidfile = /p2\npidct = 100\npidfile = /p3\n",
    );
    expect(errors).toEqual([]);
    expect(config.logs.map((l) => [l.path, l.level, l.rules])).toEqual([
      ["/a", "server", "/etc/logcheck"],
      ["/b", "server", "/srv/rules"],
      ["/c", "paranoid", "/r2"],
    ]);
    expect(config.pidfiles.map((p) => [p.path, p.pidct])).toEqual([["/p1", 100], ["/p2", 101], ["/p3", 100]]);
  });

  test("comments: # at line start or after whitespace only", () => {
    const { config, errors } = parse("  # indented comment\narea = /srv/a#b\narea = /srv/c #comment\n\n\t\n");
    expect(errors).toEqual([]);
    expect(config.areas).toEqual(["/srv/a#b", "/srv/c"]);
  });

  test("email = none disables mail", () => {
    expect(parse("email = none\n").config.email).toEqual([]);
  });

  test("every error kind, all at once, with FILE:LINE", () => {
    const text = [
      "bogus = 1", // 1 unknown key
      "just some words", // 2 missing =
      "filerate = fast", // 3 non-numeric
      "byterate = -5", // 4 negative
      "filerate = 0", // 5 zero rate
      "area = etc", // 6 relative path
      "logrules = paranoia:/etc/logcheck", // 7 unknown level
      "hash = md5", // 8 unknown hash
      "smtp = host:99999", // 9 bad port
      "pidct = -1", // 10 negative pidct
      "speedup = 0.5", // 11 speedup below 1
      "database =", // 12 empty value
      "syslog = maybe", // 13 not yes/no
    ].join("\n");
    const { errors } = parse(text);
    expect(errors.map((e) => e.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    for (const e of errors) expect(e.file).toBe(F);
    expect(errors[0].message).toContain("unknown key 'bogus'");
    expect(errors[1].message).toContain("missing '='");
    expect(errors[2].message).toContain("not a non-negative number");
    expect(errors[3].message).toContain("not a non-negative number");
    expect(errors[4].message).toContain("must not be zero");
    expect(errors[5].message).toContain("not an absolute path");
    expect(errors[6].message).toContain("unknown level 'paranoia'");
    expect(errors[7].key).toBe("hash");
  });

  test("a single-valued key set twice warns; the last wins", () => {
    const { config, warnings, errors } = parse("filerate = 2\nfilerate = 3\n");
    expect(errors).toEqual([]);
    expect(config.filerate).toBe(3);
    expect(warnings[0]).toMatchObject({ line: 2, key: "filerate" });
  });

  test("CRLF line endings are accepted", () => {
    const { config, errors } = parse("area = /etc\r\nfilerate = 2\r\n");
    expect(errors).toEqual([]);
    expect(config.areas).toEqual(["/etc"]);
    expect(config.filerate).toBe(2);
  });

  test("formatConfig output parses back to the same configuration", () => {
    const text = "email = a@b.c\narea = /etc\nexclude = /etc/x\nlogrules = paranoid:/r\nlog = /l\npidct = 7\npidfile = /p\nsmtp = [::1]:2525\n";
    const a = parse(text).config;
    const printed = formatConfig(a, "host.example");
    const b = parseConfig(printed, F);
    expect(b.errors).toEqual([]);
    const strip = (c: typeof a) => ({ ...c, logs: c.logs.map(({ line, ...l }) => l), pidfiles: c.pidfiles.map(({ line, ...p }) => p), mailfrom: "" });
    expect(strip(b.config)).toEqual(strip(a));
    expect(printed).toContain("mailfrom = integrityd@host.example");
  });

  test("defaultConfig is what an empty file gives", () => {
    expect(parse("").config).toEqual(defaultConfig(F));
  });
});

describe("mistakes a real admin makes", () => {
  test("junk after a comma is an error, not three recipients; several addresses by commas or spaces still work", () => {
    const junk = parse("email = root@localhost, not an address\n");
    expect(junk.errors.map((e) => e.message)).toEqual(["email: 'not an address' is not a mail address"]);
    expect(parse("email = a@example.org, b@example.org\n").config.email).toEqual(["a@example.org", "b@example.org"]);
    expect(parse("email = a@example.org b@example.org\n").config.email).toEqual(["a@example.org", "b@example.org"]);
    expect(parse("email = root\n").config.email).toEqual(["root"]);
  });

  test("the same area twice (/etc and /etc/) is an error; an area inside another is a warning", () => {
    const r = parse("area = /etc\narea = /etc/\narea = /etc/ssh\n");
    expect(r.errors.map((e) => `${e.line}: ${e.message}`)).toEqual(["2: area: /etc is given twice (line 1 and here)"]);
    expect(r.warnings.map((w) => `${w.line}: ${w.message}`)).toEqual(["3: area: /etc/ssh lies inside area /etc; it is checked as part of it"]);
    expect(r.config.areas).toEqual(["/etc", "/etc/ssh"]);
  });

  test("an unknown key says which known key was probably meant", () => {
    expect(parse("emial = root\n").errors[0].message).toBe("unknown key 'emial'; did you mean 'email'?");
    expect(parse("byterat = 5\n").errors[0].message).toBe("unknown key 'byterat'; did you mean 'byterate'?");
    expect(parse("frobnicate = 5\n").errors[0].message).toBe("unknown key 'frobnicate'");
  });
});

describe("mail transport and TLS settings", () => {
  test("smtptls: auto (default), verify, or the absolute path of a certificate", () => {
    expect(parse("").config.smtptls).toBe("auto");
    expect(parse("smtptls = verify\n").config.smtptls).toBe("verify");
    expect(parse("smtptls = /etc/integrityd/relay.pem\n").config.smtptls).toBe("/etc/integrityd/relay.pem");
    expect(parse("smtptls = off\n").errors[0].message).toBe("smtptls: 'off' is not auto, verify or the absolute path of a certificate");
  });
});

test("a bad glob in an exclude is an error with FILE:LINE, before the daemon ever matches it", () => {
  const r = parse("exclude = /etc/[abc\nexclude = /tmp/*.swp{\nexclude = /var/lib/**/*.cache\n");
  expect(r.errors.map((e) => `${e.line}: ${e.message.split(":")[0]}`)).toEqual(["1: exclude", "2: exclude"]);
  expect(r.errors[0].message).toContain("bad glob '/etc/[abc'");
  expect(r.config.excludes).toEqual(["/var/lib/**/*.cache"]);
});

test("logrules = LEVEL:builtin names the embedded rules", () => {
  const r = parse("logrules = workstation:builtin\nlog = /var/log/syslog\nlogrules = /etc/logcheck\n");
  expect(r.errors).toEqual([]);
  expect(r.config.logs[0]).toMatchObject({ rules: "builtin", level: "workstation" });
  expect(parse("logrules = server:relative/dir\n").errors[0].message).toContain("is not an absolute path (or builtin");
});

test("hints and hintwatches: the modes, a budget; anything else is an error with FILE:LINE", () => {
  expect(parse("").config).toMatchObject({ hints: "auto", hintwatches: 8192 });
  expect(parse("hints = FANOTIFY\nhintwatches = 0\n").config).toMatchObject({ hints: "fanotify", hintwatches: 0 });
  const { errors } = parse("hints = yes\nhintwatches = 1.5\n");
  expect(errors.map((e) => `${e.line}: ${e.message}`)).toEqual(["1: hints: 'yes' is not auto, fanotify, inotify, off", "2: hintwatches: '1.5' must be a whole number"]);
});
