// integrityd entry point.
import { main } from "./cli/cli.ts";
import { BACKFILL_CHILD_ARG, runBackfillChild } from "./packages/backfillchild.ts";
import { COMPILE_CHILD_ARG, runCompileChild } from "./rules/child.ts";
import { EX_SOFTWARE } from "./util/exit.ts";

process.umask(0o077); // every file we create (database, WAL, jsonlog) is 0600, directories 0700
// one-off bulk work the daemon hands off (util/selfchild.ts) runs this same program
const run = process.argv[2] === COMPILE_CHILD_ARG ? runCompileChild()
  : process.argv[2] === BACKFILL_CHILD_ARG ? runBackfillChild()
  : main(process.argv.slice(2));
run.then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`error: internal: ${(e as Error)?.stack ?? e}\n`);
    process.exit(EX_SOFTWARE);
  },
);
