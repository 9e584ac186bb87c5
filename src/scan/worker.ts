// The walk worker (a thread of pool.ts): answers jobs to visit entries of a
// directory open as a descriptor with blocking calls (reader.ts's visitSync:
// lstat, readlink, hash), and to open and list a directory (openAndList),
// leaving its descriptor open for the main thread. Jobs and answers are
// strings (wire.ts). Compiled into the binary as its own entry point (build.ts).
import { openAndList } from "./dirs.ts";
import { visitSync, type RawVisit } from "./reader.ts";
import { decodeJob, encodeListing, encodeListingError, encodeVisit } from "./wire.ts";

declare const self: Worker;

const buf = Buffer.allocUnsafe(1 << 20);

function visit(dirfd: number, name: Buffer, algo: string): RawVisit {
  try {
    return visitSync(dirfd, name, algo, buf);
  } catch (err) {
    return { ok: false, code: "EWORKER", message: String((err as Error)?.message ?? err) };
  }
}

function answer(text: string): string[] {
  const job = decodeJob(text);
  if (job.kind === "many") {
    const out = [job.id];
    for (const n of job.names) out.push(encodeVisit("", visit(job.dirfd, n, job.algo)));
    return out;
  }
  const v = visit(job.dirfd, job.name, job.algo);
  const text0 = encodeVisit(job.id, v);
  // a directory: opened, checked against the lstat, and its listing follows
  if (!v.ok || (Number(v.st.mode) & 0o170000) !== 0o040000) return [text0];
  let listing: string;
  try {
    const l = openAndList(job.dirfd, job.name, v.st);
    listing = l.listing.ok ? encodeListing(l.fd!, l.listing.names) : encodeListingError(l.listing.code, l.listing.message);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    listing = encodeListingError(e?.code ?? "EUNKNOWN", String(e?.message ?? err).split("\n")[0]);
  }
  return [text0, listing];
}

self.onmessage = (e: MessageEvent) => {
  postMessage((e.data as string[]).map(answer));
};
