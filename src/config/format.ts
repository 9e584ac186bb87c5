// The effective configuration as config text, for --check-config: every key
// with its value after defaults (valid input for parseConfig again; the SMTP
// password is masked).
import { type Config, NUMERIC, type NumKey } from "./config.ts";

/** The effective configuration as config text (valid input for parseConfig). */
export function formatConfig(c: Config, host: string): string {
  const out: string[] = [`# effective configuration of ${c.file}`];
  const kv = (k: string, v: string | number) => out.push(`${k} = ${v}`);
  kv("email", c.email.length ? c.email.join(", ") : "none");
  kv("mailfrom", c.mailfrom || `integrityd@${host}`);
  if (c.sendmail) kv("sendmail", c.sendmail);
  else kv("smtp", `${c.smtp.host.includes(":") ? `[${c.smtp.host}]` : c.smtp.host}:${c.smtp.port}`);
  if (c.smtpuser) kv("smtpuser", c.smtpuser);
  if (c.smtppass) kv("smtppass", "********");
  kv("smtptls", c.smtptls);
  kv("database", c.database);
  for (const a of c.areas) kv("area", a);
  for (const e of c.excludes) kv("exclude", e);
  let lr = "";
  for (const l of c.logs) {
    const cur = `${l.level}:${l.rules}`;
    if (cur !== lr) kv("logrules", (lr = cur));
    kv("log", l.path);
  }
  for (const j of c.journals) {
    const cur = `${j.level}:${j.rules}`;
    if (cur !== lr) kv("logrules", (lr = cur));
    kv("journal", j.source);
  }
  let pc = -1;
  for (const p of c.pidfiles) {
    if (p.pidct !== pc) kv("pidct", (pc = p.pidct));
    kv("pidfile", p.path);
  }
  for (const k of Object.keys(NUMERIC) as NumKey[]) kv(k, c[k]);
  kv("hash", c.hash);
  kv("crackingignore", c.crackingignore ? "yes" : "no");
  kv("jsonlog", c.jsonlog);
  kv("syslog", c.syslog ? "yes" : "no");
  kv("syslogfacility", c.syslogfacility);
  kv("hints", c.hints);
  kv("packages", c.packages);
  if (c.chainkey) kv("chainkey", c.chainkey); // else beside the database (src/chain/open.ts)
  kv("syslogformat", c.syslogformat);
  kv("syslogsocket", c.syslogsocket);
  kv("metrics", c.metrics);
  return out.join("\n").replace(/ = $/gm, " =") + "\n";
}
