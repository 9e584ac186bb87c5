// Debian's logcheck-database (the rules) and logcheck (its script, the
// specification of the verdicts), fetched at test time (debian.ts).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { extractDebs } from "./debian.ts";

export { REPO_ROOT } from "./debian.ts";

export interface LogcheckDb {
  /** the extracted /etc/logcheck (rule home) */
  rulesHome: string;
  /** the extracted /usr/sbin/logcheck script (the specification) */
  logcheckScript: string;
  /** Debian package version that was extracted */
  version: string;
}

let cached: LogcheckDb | null = null;

export function getLogcheckDb(): LogcheckDb {
  if (cached) return cached;
  const home = (root: string) => join(root, "etc", "logcheck");
  const script = (root: string) => join(root, "usr", "sbin", "logcheck");
  const { root, debs } = extractDebs("logcheck-db", ["logcheck-database", "logcheck"], (r) => existsSync(join(home(r), "ignore.d.server")) && existsSync(script(r)));
  const ver = debs.find((f) => f.startsWith("logcheck-database_")) ?? "unknown";
  cached = { rulesHome: home(root), logcheckScript: script(root), version: ver.replace(/^logcheck-database_/, "").replace(/_all\.deb$/, "") };
  return cached;
}
