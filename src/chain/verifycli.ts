// `integrityd --verify-chain --key K [--mails MBOX] [--database FILE]`: the
// verifier's I/O, run on the admin's machine against a copy of the database
// (opened read-only; the host's key file is never needed). Prints what it
// checked and every finding, the first bad entry last.
// Exit: 0 intact, 1 tampering found, 64 usage (a malformed key), 74 the
// database or the mailbox cannot be read.
import { existsSync, readFileSync } from "node:fs";
import { openDatabase } from "../db/db.ts";
import { EX_IOERR, EX_OK, EX_USAGE, ExitError } from "../util/exit.ts";
import { type EventFields, hex, parseKey, type RecordFields } from "./core.ts";
import { checkMails, parseMbox } from "./mbox.ts";
import { type ChainRow, ChainWalk, firstBad, type Finding } from "./verify.ts";

export const EXIT_TAMPERED = 1;

export interface VerifyOptions {
  key: string;
  database: string;
  mails?: string;
  out: (s: string) => void;
  now?: number;
}

type JoinedRow = ChainRow & { eid: number | null; etime: number; channel: string; ekind: string; urgent: number; subject: string; section: string; text: string; details: string };

export function runVerifyChain(o: VerifyOptions): number {
  const key = parseKey(o.key === "-" ? readFileSync(0, "utf8") : o.key);
  if (!key) throw new ExitError(EX_USAGE, "--key: expected the 64 hex digits that --init-db printed (or - to read them from standard input)");
  let mailText: string | undefined;
  if (o.mails !== undefined) {
    try {
      mailText = readFileSync(o.mails, "utf8");
    } catch (e) {
      throw new ExitError(EX_IOERR, `${o.mails}: ${(e as Error).message}`);
    }
  }
  if (!existsSync(o.database)) throw new ExitError(EX_IOERR, `${o.database}: no such file (give the copy of the database with --database)`);
  const db = openDatabase(o.database, { readonly: true });
  const findings: Finding[] = [];
  try {
    const walk = new ChainWalk(key);
    key.fill(0);
    const rows = db.query(
      `SELECT c.seq, c.epoch, c.time, c.kind, c.ref, c.data, c.hash, c.mac, e.id AS eid, e.time AS etime, e.channel, e.kind AS ekind,
              e.urgent, e.subject, e.section, e.text, e.details
         FROM chain c LEFT JOIN events e ON c.kind = 'event' AND e.id = c.ref ORDER BY c.seq`,
    );
    for (const r of rows.iterate() as IterableIterator<JoinedRow>) {
      const ev: EventFields | null | undefined = r.kind !== "event" ? undefined : r.eid === null ? null
        : { id: r.eid, time: r.etime, channel: r.channel, kind: r.ekind, urgent: r.urgent, subject: r.subject, section: r.section, text: r.text, details: r.details };
      if (walk.step(r, ev)) break;
    }
    const ids = (function* () {
      for (const e of db.query("SELECT id FROM events ORDER BY id").iterate() as IterableIterator<{ id: number }>) yield e.id;
    })();
    walk.checkEvents(ids);
    const records = db.query("SELECT path, type, mode, uid, gid, size, ino, nlink, mtime, ctime, rdev, target, hash FROM entries").safeIntegers(true);
    walk.checkRecords(records.iterate() as IterableIterator<RecordFields>);
    const total = (db.query("SELECT count(*) AS n FROM chain").get() as { n: number }).n;
    if (walk.verified === 0 && total === 0) o.out("chain: empty (no first key was ever made for this database)\n");
    else o.out(`chain: ${walk.verified} of ${total} entries verified with the first key (epochs 0-${walk.lastEpoch})${walk.broken ? "" : ", unbroken"}\n`);
    if (walk.broken) findings.push(walk.broken);
    findings.push(...walk.findings);

    if (mailText !== undefined) {
      const { stamps, unstamped } = parseMbox(mailText);
      const head = (db.query("SELECT coalesce(max(seq), 0) AS m FROM chain").get() as { m: number }).m;
      const one = db.query("SELECT mac, epoch FROM chain WHERE seq = ?");
      const mails = (db.query("SELECT seq, time, data FROM chain WHERE kind = 'mail' ORDER BY seq").all() as { seq: number; time: number; data: string }[])
        .flatMap((m) => {
          try {
            const d = JSON.parse(m.data) as { report: number; mac: string };
            return [{ seq: m.seq, time: m.time, report: Number(d.report), mac: String(d.mac) }];
          } catch {
            return [];
          }
        });
      const view = {
        head,
        entry(seq: number) {
          const r = one.get(seq) as { mac: Uint8Array; epoch: number } | null;
          return r ? { mac: hex(r.mac), epoch: r.epoch } : null;
        },
        mails,
      };
      const mf = checkMails(stamps, view, o.now ?? Date.now());
      const reports = stamps.map((s) => s.report);
      o.out(`mails: ${stamps.length} stamped${stamps.length ? ` (reports #${Math.min(...reports)}-#${Math.max(...reports)})` : ""}${unstamped ? `, ${unstamped} without a stamp` : ""}${mf.length ? "" : "; sequence, ranges, heads and heartbeats consistent"}\n`);
      findings.push(...mf);
    }
  } finally {
    db.close();
  }
  if (findings.length === 0) {
    o.out("intact: no sign of tampering\n");
    return EX_OK;
  }
  for (const f of findings) o.out(`TAMPERED: ${f.seq !== null ? `entry ${f.seq}: ` : ""}${f.text}\n`);
  const first = firstBad(findings);
  o.out(first !== null ? `first bad entry: ${first}\n` : "tampering found (no single entry at fault)\n");
  return EXIT_TAMPERED;
}
