// A Bun macro (see src/embed-macro.ts): runs when the program is bundled or
// transpiled, never in the compiled binary. It returns the SHA-256 of every
// source file of the rule engine (src/rules/*.ts, by name and content), so a
// build whose engine differs in any byte never trusts another build's
// compiled rules (cache.ts).
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export function engineSourceHash(): string {
  const h = createHash("sha256");
  for (const name of readdirSync(import.meta.dir).filter((n) => n.endsWith(".ts")).sort()) {
    h.update(name + "\0");
    h.update(readFileSync(join(import.meta.dir, name)));
    h.update("\0");
  }
  return h.digest("hex");
}
