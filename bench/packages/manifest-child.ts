// The measured process of bench/packages/run.ts: build the manifest of every
// .deb named on the command line as the apt hook does (src/packages/manifest.ts,
// several at a time); print the content bytes and members read. BENCH_SERIAL=1:
// one after the other.
import { manifestsInOrder } from "../../src/packages/manifest.ts";

let bytes = 0, files = 0, members = 0;
for await (const m of manifestsInOrder(process.argv.slice(2), process.env.BENCH_SERIAL === "1" ? 1 : undefined)) {
  if (m instanceof Error) throw m;
  bytes += m.bytes;
  files += m.files;
  members += m.entries.length;
}
console.log(JSON.stringify({ bytes, files, members }));
