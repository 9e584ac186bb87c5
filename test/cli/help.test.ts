// --help, the manual page and the bash completion come from one description
// of the command line (src/cli/help.ts); each is checked by the real tool
// that reads it (groff, bash).
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { bashCompletion, helpText, manPage, MODE_FLAGS, OPTION_FLAGS } from "../../src/cli/help.ts";

test("every flag is in --help, the manual and the completion", () => {
  const help = helpText(), man = manPage("9.9"), comp = bashCompletion();
  for (const f of [...MODE_FLAGS, ...OPTION_FLAGS]) {
    expect(help).toContain(f.name);
    expect(man).toContain(f.name.replace(/-/g, "\\-"));
    expect(comp).toContain(f.name);
  }
});

test("the manual page formats without a warning (groff -man -ww)", () => {
  if (!existsSync("/usr/bin/groff")) {
    console.error("skipped (man page check): groff is not installed");
    return;
  }
  const r = Bun.spawnSync(["groff", "-man", "-Tutf8", "-ww", "-z"], { stdin: new TextEncoder().encode(manPage("9.9")), stderr: "pipe" });
  expect(r.stderr.toString()).toBe("");
  expect(r.exitCode).toBe(0);
});

test("the completion script is valid bash and completes options and levels", () => {
  const script = `${bashCompletion()}
COMP_WORDS=(integrityd --che); COMP_CWORD=1; _integrityd; echo "\${COMPREPLY[*]}"
COMP_WORDS=(integrityd --level ser); COMP_CWORD=2; _integrityd; echo "\${COMPREPLY[*]}"
complete -p integrityd`;
  const r = Bun.spawnSync(["bash", "-c", script], { stdout: "pipe", stderr: "pipe" });
  expect(r.stderr.toString()).toBe("");
  expect(r.stdout.toString().split("\n").slice(0, 3)).toEqual(["--check-config", "server", "complete -F _integrityd integrityd"]);
});
