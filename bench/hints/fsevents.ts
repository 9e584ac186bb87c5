// bench/hints: a count of the file events other programs make on a file
// system while a daemon is measured at rest, from the bench's own fanotify
// group (a filesystem mark, as the daemon's): what the daemon's watcher is
// offered before its ignore marks. Events of the bench and of the daemon
// measured are not counted.
import { closeSync } from "node:fs";
import { parseFanotify } from "../../src/scan/hints/events.ts";
import { hintCalls } from "../../src/scan/hints/ffi.ts";

/**
 * File events the file system holding `dir` sees from other programs (not
 * the daemon, not this bench): what a filesystem mark is offered (a lower
 * bound if its queue overflows). Read every 250 ms without blocking.
 */
export class FsEvents {
  private fd = -1;
  private timer: Timer | null = null;
  count = 0;
  constructor(dir: string, private readonly daemonPid: () => number) {
    const c = hintCalls();
    try {
      this.fd = c?.fanotifyInit() ?? -1;
      if (this.fd >= 0) c!.fanotifyMark(this.fd, dir);
    } catch {
      this.close();
      return;
    }
    const buf = new Uint8Array(1 << 16);
    this.timer = setInterval(() => {
      for (let n; (n = c!.read(this.fd, buf)) > 0; ) {
        for (const r of parseFanotify(buf, n)) if (!r.overflow && r.pid !== process.pid && r.pid !== this.daemonPid()) this.count++;
      }
    }, 250);
  }
  get live(): boolean {
    return this.fd >= 0;
  }
  close(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
