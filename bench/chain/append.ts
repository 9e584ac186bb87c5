// bench/chain's child: a fresh database in DIR, chained (on) or not (off), and
// N events queued through src/db/events.ts in transactions of 100, as the
// tasks queue them. Prints one JSON line: µs per event, and the first key (on).
import { join } from "node:path";
import { initDatabase, openDatabase } from "../../src/db/db.ts";
import { enqueue } from "../../src/db/events.ts";
import { initChain, openChain } from "../../src/chain/open.ts";

const [nArg, mode, dir] = process.argv.slice(2);
const N = Number(nArg);
const path = join(dir, `${mode}.sqlite`);
initDatabase(path);
const db = openDatabase(path);
let key: string | null = null;
if (mode === "on") {
  const r = initChain(db, `${path}.chainkey`);
  if (!r.created) throw new Error(r.note);
  key = r.key;
  openChain(db, `${path}.chainkey`, "bench");
}
const t0 = Bun.nanoseconds();
const c0 = process.cpuUsage();
const BATCH = 100;
for (let i = 0; i < N; i += BATCH) {
  db.transaction(() => {
    for (let j = i; j < Math.min(N, i + BATCH); j++) {
      enqueue(db, { channel: "log", kind: "violation", section: "Security Events", subject: "/var/log/auth.log", text: `Nov 30 07:00:00 host sshd[${j}]: Failed password for invalid user u${j} from 192.0.2.${j % 250} port ${j % 60000} ssh2`, details: { n: j } });
    }
  })();
}
const us = (Bun.nanoseconds() - t0) / 1000 / N;
const c1 = process.cpuUsage(c0);
const cpuUs = (c1.user + c1.system) / N;
db.close();
process.stdout.write(`${JSON.stringify({ mode, n: N, usPerEvent: us, cpuUsPerEvent: cpuUs, key, path })}\n`);
