// The measured process of bench/packages/run.ts: build the manifest of every
// .deb named on the command line (src/packages/manifest.ts, as the apt hook
// does), one after the other; print the content bytes and members read.
import { buildManifest } from "../../src/packages/manifest.ts";

let bytes = 0, files = 0, members = 0;
for (const deb of process.argv.slice(2)) {
  const m = await buildManifest(deb);
  bytes += m.bytes;
  files += m.files;
  members += m.entries.length;
}
console.log(JSON.stringify({ bytes, files, members }));
