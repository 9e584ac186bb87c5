// Throwaway local users for attack tests: created with the real `useradd`,
// removed with `userdel` when the test is done. Needs root; without it (or
// without useradd) `throwawayUser` returns null and says why on stderr, and
// the caller skips its attack.
import { existsSync } from "node:fs";

export interface User {
  name: string;
  uid: number;
  gid: number;
  /** run argv as this user (setpriv, no shell); returns exit code and output */
  run(argv: string[]): { code: number; stdout: string; stderr: string };
  remove(): void;
}

export function throwawayUser(why: string): User | null {
  if (process.getuid?.() !== 0) {
    console.error(`skipped (${why}): needs root to create a throwaway user`);
    return null;
  }
  if (!existsSync("/usr/sbin/useradd") || !existsSync("/usr/bin/setpriv")) {
    console.error(`skipped (${why}): useradd or setpriv missing`);
    return null;
  }
  const name = `idtest${process.pid % 100000}${Math.floor(Math.random() * 1000)}`;
  const add = Bun.spawnSync(["/usr/sbin/useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group", name], { stderr: "pipe" });
  if (add.exitCode !== 0) throw new Error(`useradd ${name}: ${add.stderr.toString()}`);
  const id = (flag: string) => Number(Bun.spawnSync(["id", flag, name]).stdout.toString().trim());
  const uid = id("-u"), gid = id("-g");
  return {
    name, uid, gid,
    run(argv) {
      const r = Bun.spawnSync(["/usr/bin/setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--", ...argv], { stdout: "pipe", stderr: "pipe" });
      return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
    },
    remove() {
      Bun.spawnSync(["/usr/sbin/userdel", name], { stderr: "pipe" });
    },
  };
}
