// The walk worker (a thread of pool.ts): answers jobs to visit paths with
// blocking calls (reader.ts's visitSync: lstat, readlink, hash) and to list
// directories. Jobs and answers are strings (wire.ts). Compiled into the
// binary as its own entry point (build.ts).
import { readdirSync } from "node:fs";
import { visitSync, type RawVisit } from "./reader.ts";
import { decodeJob, encodeListing, encodeListingError, encodeVisit } from "./wire.ts";

declare const self: Worker;

const buf = Buffer.allocUnsafe(1 << 20);

/** One visit, encoded; dir: whether it found a directory. */
function visit(id: string, path: Buffer, algo: string): { text: string; dir: boolean } {
  let v: RawVisit;
  try {
    v = visitSync(path, algo, buf);
  } catch (err) {
    v = { ok: false, code: "EWORKER", message: String((err as Error)?.message ?? err) };
  }
  return { text: encodeVisit(id, v), dir: v.ok && (Number(v.st.mode) & 0o170000) === 0o040000 };
}

function answer(text: string): string[] {
  const job = decodeJob(text);
  if (job.kind === "many") {
    const out = [job.id];
    for (const p of job.paths) out.push(visit("", p, job.algo).text);
    return out;
  }
  const v = visit(job.id, job.path, job.algo);
  // a directory: its listing follows
  if (!v.dir) return [v.text];
  let listing: string;
  try {
    listing = encodeListing(readdirSync(job.path, { encoding: "buffer" }));
  } catch (err) {
    const e = err as { code?: string; message?: string };
    listing = encodeListingError(e?.code ?? "EUNKNOWN", String(e?.message ?? err).split("\n")[0]);
  }
  return [v.text, listing];
}

self.onmessage = (e: MessageEvent) => {
  postMessage((e.data as string[]).map(answer));
};
