// Compile integrityd into one self-contained executable: dist/integrityd.
// The SQL schema and everything under etc/ are embedded (src/db/db.ts imports
// schema.sql as text; src/embedded.ts inlines etc/ through a build-time macro).
// The scan workers' program (src/scan/worker.ts) is a second entry point: the
// binary embeds it, and src/scan/pool.ts starts it by its URL; so is the
// change hints' watcher thread (src/scan/hints/watcher.ts, started by hints.ts).
// Never strip the result: the program lives in a section that strip deletes.
import { chmodSync, rmSync } from "node:fs";

const outfile = "dist/integrityd";
const result = await Bun.build({
  entrypoints: ["src/main.ts", "src/scan/worker.ts", "src/scan/hints/watcher.ts"],
  target: "bun",
  format: "esm",
  minify: true,
  bytecode: true,
  sourcemap: "inline",
  compile: {
    outfile,
    autoloadDotenv: false,
    autoloadBunfig: false,
    autoloadTsconfig: false,
    autoloadPackageJson: false,
  },
});
if (!result.success) {
  for (const m of result.logs) console.error(m);
  process.exit(1);
}
chmodSync(outfile, 0o755);
// the maps are embedded; the copies beside the binary are not needed
for (const map of [`${outfile}.map`, "dist/worker.js.map", "dist/watcher.js.map"]) rmSync(map, { force: true });
console.log(`built ${outfile}`);
