// integrityd entry point.
import { main } from "./cli/cli.ts";
import { EX_SOFTWARE } from "./util/exit.ts";

process.umask(0o077); // every file we create (database, WAL, jsonlog) is 0600, directories 0700
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`error: internal: ${(e as Error)?.stack ?? e}\n`);
    process.exit(EX_SOFTWARE);
  },
);
