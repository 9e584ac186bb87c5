// A Bun macro: runs when the program is bundled (bun build) or transpiled
// (bun test, bun run), never at run time of the compiled binary. It returns
// every file under etc/ as { relativePath: text }, which Bun inlines into the
// calling module, so the binary carries its defaults without any file beside it.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

export function etcTree(): Record<string, string> {
  const root = join(import.meta.dir, "..", "etc");
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) out[relative(root, p)] = readFileSync(p, "utf8");
    }
  };
  walk(root);
  return out;
}
