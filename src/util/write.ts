// Writing the whole of a buffer to a descriptor before going on. The CLI's
// output goes this way: main() ends with process.exit, and Bun drops what its
// stream API still queues for a pipe then (a 1 MB report arrived cut at 0.7 MB).
import { writeSync } from "node:fs";

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Write all of `data` to `fd`, waiting out a full non-blocking pipe (EAGAIN). */
export function writeAll(fd: number, data: string | Uint8Array): void {
  const buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      Atomics.wait(pause, 0, 0, 2); // the reader is behind: give it 2 ms
    }
  }
}
