// A corpus of real-world syslog lines: the test logs shipped in Debian's
// fail2ban package (tests/files/logs/* and tests/files/*.log — sshd, postfix,
// dovecot, named, vsftpd, sudo and many more, some anonymised; GPL-2+), only
// the lines that begin with a classic "Mmm dd hh:mm:ss host " or an RFC 3339
// timestamp and a host. Fetched at test time (debian.ts), written once to
// .cache/fail2ban/corpus.log. Its verdicts always come from logcheck's own
// grep pipeline with Debian's rules, never from hand-written expectations.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CACHE_ROOT, extractDebs } from "./debian.ts";

const TESTS = "usr/lib/python3/dist-packages/fail2ban/tests/files";
const CLASSIC = /^[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d \S+ /;
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)? \S+ /;

export function fail2banCorpus(): string {
  const out = join(CACHE_ROOT, "fail2ban", "corpus.log");
  if (existsSync(out) && statSync(out).size > 0) return out;
  const { root } = extractDebs("fail2ban", ["fail2ban"], (r) => existsSync(join(r, TESTS, "logs")));
  const files = [
    ...readdirSync(join(root, TESTS, "logs")).sort().map((f) => join(root, TESTS, "logs", f)),
    ...readdirSync(join(root, TESTS)).filter((f) => f.endsWith(".log")).sort().map((f) => join(root, TESTS, f)),
  ].filter((f) => statSync(f).isFile());
  const lines: string[] = [];
  for (const f of files) {
    for (const l of readFileSync(f).toString("latin1").split("\n")) if (CLASSIC.test(l) || RFC3339.test(l)) lines.push(l);
  }
  if (lines.length < 100) throw new Error(`fail2ban corpus: only ${lines.length} syslog lines found in ${join(root, TESTS)}`);
  writeFileSync(out, Buffer.from(`${lines.join("\n")}\n`, "latin1"));
  return out;
}
