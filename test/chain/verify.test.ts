// Each attack on a real database (a second sqlite connection, as an intruder
// with root would use), caught by the verifier with the exact entry; and
// what the verifier cannot see without the mails, shown as such.
import { afterEach, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { copyFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { appendWith, chainHead } from "../../src/chain/append.ts";
import { closeChain, openChain, sealEpoch } from "../../src/chain/open.ts";
import { readKeyFile } from "../../src/chain/keyfile.ts";
import { entryMac, eventHash, type EventFields, sha256 } from "../../src/chain/core.ts";
import { chainMailed, chainStamp, stampValue, type Stamp } from "../../src/chain/stamp.ts";
import { enqueue, EVENT_RETENTION_MS } from "../../src/db/events.ts";
import { openDatabase } from "../../src/db/db.ts";
import { pruneChunk } from "../../src/report/prune.ts";
import { Store } from "../../src/scan/store.ts";
import { chainedDatabase, verify, writeMbox, type ChainedDatabase } from "../support/chain.ts";

let t: ChainedDatabase;
afterEach(() => t?.cleanup());

const enc = (s: string) => new TextEncoder().encode(s);
const ev = (text: string) => ({ channel: "file" as const, kind: "changed", subject: "/etc/x", text });
const seqOf = (db: Database, id: number) => (db.query("SELECT seq FROM chain WHERE kind = 'event' AND ref = ?").get(id) as { seq: number }).seq;

interface Scene {
  early: number; // an event id of epoch 1
  mails: Stamp[];
  mbox: string;
}

/** Epoch 1: events and a record; seal; epoch 2: events, mail #1; seal; epoch 3: events, mail #2, more events. */
function scene(): Scene {
  t = chainedDatabase();
  const db = t.db;
  const early = enqueue(db, ev("early"));
  enqueue(db, ev("second"));
  const a = { type: "file" as const, mode: 0o755, uid: 0, gid: 0, size: 10n, ino: 5n, nlink: 1, mtime: 1n, ctime: 1n, rdev: 0n, target: null, hash: "sha256:aa" };
  db.transaction(() => new Store(db).put(enc("/usr/bin/login"), a, null, Date.now(), 1))();
  sealEpoch(db);
  const mails: Stamp[] = [];
  const mail = () => {
    const s = chainStamp(db, "report", 86400)!;
    db.transaction(() => chainMailed(db, s))();
    mails.push(s);
  };
  for (const x of ["m1", "m2", "m3"]) enqueue(db, ev(x));
  mail();
  enqueue(db, ev("between"));
  sealEpoch(db);
  for (const x of ["n1", "n2"]) enqueue(db, ev(x));
  mail();
  for (const x of ["late1", "late2"]) enqueue(db, ev(x));
  const mbox = writeMbox(t.dir, mails.map((s) => ({ headers: `Subject: integrityd\nX-Integrityd-Chain: ${stampValue(s)}`, body: "report\n" })));
  return { early, mails, mbox };
}

/** A second connection on the same file: the intruder's. */
function intruder(f: (db: Database) => void): void {
  const db = new Database(t.path);
  try {
    f(db);
  } finally {
    db.close();
  }
}

test("untouched: intact, mails included; exit 0", () => {
  const s = scene();
  const v = verify(t.path, t.firstKey, { mails: s.mbox });
  expect(v.out).toContain("unbroken");
  expect(v.out).toContain("2 stamped (reports #1-#2)");
  expect(v.code).toBe(0);
});

test("a wrong first key: every entry fails at once (entry 1)", () => {
  scene();
  const v = verify(t.path, "00".repeat(32));
  expect(v.code).toBe(1);
  expect(v.first).toBe(1);
});

test("editing an events row is caught at its entry", () => {
  const s = scene();
  intruder((db) => db.query("UPDATE events SET text = 'nothing happened' WHERE id = ?").run(s.early));
  const v = verify(t.path, t.firstKey);
  expect(v.code).toBe(1);
  expect(v.first).toBe(seqOf(t.db, s.early));
  expect(v.out).toContain(`events row ${s.early} was changed`);
});

test("editing a chain entry (its time) is caught at that entry", () => {
  const s = scene();
  const seq = seqOf(t.db, s.early);
  intruder((db) => db.query("UPDATE chain SET time = time - 3600000 WHERE seq = ?").run(seq));
  const v = verify(t.path, t.firstKey);
  expect(v.first).toBe(seq);
  expect(v.out).toContain("MAC does not verify");
});

test("re-baselining a record (the trojaned binary's hash) is caught at its record entry", () => {
  scene();
  const seq = (t.db.query("SELECT seq FROM chain WHERE kind = 'record' ORDER BY seq DESC LIMIT 1").get() as { seq: number }).seq;
  intruder((db) => db.query("UPDATE entries SET hash = 'sha256:bb' WHERE path = ?").run(enc("/usr/bin/login")));
  const v = verify(t.path, t.firstKey);
  expect(v.first).toBe(seq);
  expect(v.out).toContain("record of /usr/bin/login was changed");
});

test("deleting an events row, or chain entries, is caught at the first one gone", () => {
  const s = scene();
  intruder((db) => db.query("DELETE FROM events WHERE id = ?").run(s.early));
  let v = verify(t.path, t.firstKey);
  expect(v.first).toBe(seqOf(t.db, s.early));
  expect(v.out).toContain(`events row ${s.early} was deleted`);
  const seq = seqOf(t.db, s.early + 1);
  intruder((db) => db.query("DELETE FROM chain WHERE seq BETWEEN ? AND ?").run(seq, seq + 2));
  v = verify(t.path, t.firstKey);
  expect(v.first).toBe(Math.min(seq, seqOf(t.db, s.early)));
  expect(v.out).toContain(`entries ${seq}-${seq + 2} are missing`);
});

test("retention's prune is accepted; a fresh event deleted under a forged prune entry is not", () => {
  const s = scene();
  const later = Date.now() + EVENT_RETENTION_MS + 86_400_000;
  expect(pruneChunk(t.db, later, { mailOn: false, sinks: [] })).toBeGreaterThan(0);
  expect(verify(t.path, t.firstKey).code).toBe(0);
  // the intruder deletes the newest event and covers it with a prune entry made with the current key
  const t2 = chainedDatabase();
  const id = enqueue(t2.db, ev("fresh"));
  enqueue(t2.db, ev("newer"));
  const k = readKeyFile(t2.keyPath)!;
  const db = new Database(t2.path);
  db.query("DELETE FROM events WHERE id = ?").run(id);
  const data = JSON.stringify({ upTo: id, before: Date.now() + 1000 });
  db.transaction(() => appendWith(db, k.key, k.epoch, "prune", sha256(data), null, data, Date.now()))();
  db.close();
  const v = verify(t2.path, t2.firstKey);
  expect(v.first).toBe(seqOf(t2.db, id));
  expect(v.out).toContain("no retention prune covers it");
  t2.cleanup();
  void s;
});

test("truncate and re-append with the current key: invisible in the database alone, caught at the last mailed head", () => {
  const s = scene();
  const k = readKeyFile(t.keyPath)!; // the intruder reads the current key (epoch 3)
  const head2 = s.mails[1].to;
  const cut = (t.db.query("SELECT seq FROM chain WHERE kind = 'seal' ORDER BY seq DESC LIMIT 1").get() as { seq: number }).seq + 1;
  closeChain(t.db);
  intruder((db) => {
    const gone = db.query("SELECT ref FROM chain WHERE seq > ? AND kind = 'event'").all(cut) as { ref: number }[];
    for (const g of gone) db.query("DELETE FROM events WHERE id = ?").run(g.ref);
    db.query("DELETE FROM chain WHERE seq > ?").run(cut);
    db.transaction(() => {
      for (let i = 0; i < 10; i++) {
        const r = db.query("INSERT INTO events (time, channel, kind, subject, text) VALUES (?, 'file', 'changed', '/tmp/harmless', 'fine') RETURNING *").get(Date.now()) as EventFields;
        appendWith(db, k.key, k.epoch, "event", eventHash(r), r.id, null, Date.now());
      }
    })();
  });
  expect(chainHead(t.db)!.seq).toBeGreaterThan(head2);
  expect(verify(t.path, t.firstKey).code).toBe(0); // what the chain alone cannot tell (README: threat model)
  const v = verify(t.path, t.firstKey, { mails: s.mbox });
  expect(v.code).toBe(1);
  expect(v.first).toBe(head2);
  expect(v.out).toContain(`entry ${head2} is not the head mailed in report #2`);
});

test("an older copy of the database restored: caught against the mails; and by the chain itself once the daemon goes on with the newer key", () => {
  t = chainedDatabase();
  enqueue(t.db, ev("before the copy"));
  t.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  const copy = join(t.dir, "old.sqlite");
  copyFileSync(t.path, copy);
  const oldHead = chainHead(t.db)!.seq;
  sealEpoch(t.db);
  enqueue(t.db, ev("the intrusion"));
  const s = chainStamp(t.db, "report", 86400)!;
  t.db.transaction(() => chainMailed(t.db, s))();
  const mbox = writeMbox(t.dir, [{ headers: `X-Integrityd-Chain: ${stampValue(s)}`, body: "x\n" }]);
  let v = verify(copy, t.firstKey);
  expect(v.code).toBe(0); // an older chain is a valid chain
  v = verify(copy, t.firstKey, { mails: mbox });
  expect(v.first).toBe(oldHead + 1);
  expect(v.out).toContain(`the database ends at entry ${oldHead}`);
  // the copy put in place of the database; the daemon starts on it with the key file of epoch 2
  closeChain(t.db);
  t.db.close();
  renameSync(copy, t.path);
  t.db = openDatabase(t.path);
  const st = openChain(t.db, t.keyPath, "daemon");
  expect(st).toEqual({ on: true, epoch: 2 });
  v = verify(t.path, t.firstKey);
  expect(v.first).toBe(oldHead + 1);
  expect(v.out).toContain("rolled back to an older copy");
});

test("a key stolen in epoch 3 cannot forge an entry of epoch 1: caught at that entry, whatever epoch it claims", () => {
  for (const relabel of [false, true]) {
    const s = scene();
    const k = readKeyFile(t.keyPath)!;
    const target = seqOf(t.db, s.early);
    closeChain(t.db);
    intruder((db) => {
      db.query("UPDATE events SET text = 'nothing happened' WHERE id = ?").run(s.early);
      // re-chain from the target on with the stolen key, each entry's hash made to fit
      const rows = db.query("SELECT * FROM chain WHERE seq >= ? ORDER BY seq").all(target) as { seq: number; epoch: number; time: number; kind: string; ref: number; hash: Uint8Array }[];
      let prev = (db.query("SELECT mac FROM chain WHERE seq = ?").get(target - 1) as { mac: Uint8Array }).mac;
      db.transaction(() => {
        for (const r of rows) {
          let hash = r.hash;
          if (r.seq === target) hash = eventHash(db.query("SELECT * FROM events WHERE id = ?").get(r.ref) as EventFields);
          const epoch = relabel ? k.epoch : r.epoch;
          const mac = entryMac(k.key, r.seq, r.time, r.kind, hash, prev);
          db.query("UPDATE chain SET hash = ?, mac = ?, epoch = ? WHERE seq = ?").run(hash, mac, epoch, r.seq);
          prev = mac;
        }
      })();
    });
    const v = verify(t.path, t.firstKey);
    expect(v.code).toBe(1);
    expect(v.first).toBe(target);
    expect(v.out).toContain(relabel ? "without a seal" : "MAC does not verify");
    t.cleanup();
  }
  t = chainedDatabase(); // for afterEach
});

test("an events row slipped in without an entry, and a mail dropped from the mailbox, are found", () => {
  const s = scene();
  intruder((db) => db.query("INSERT INTO events (time, channel, kind, subject, text) VALUES (1, 'file', 'changed', '/x', 'planted')").run());
  let v = verify(t.path, t.firstKey);
  expect(v.code).toBe(1);
  expect(v.out).toContain("is not in the chain: inserted");
  const only2 = writeMbox(t.dir, [{ headers: `X-Integrityd-Chain: ${stampValue(s.mails[1])}`, body: "x\n" }], "only2.mbox");
  const only1 = writeMbox(t.dir, [{ headers: `X-Integrityd-Chain: ${stampValue(s.mails[0])}`, body: "x\n" }], "only1.mbox");
  intruder((db) => db.query("DELETE FROM events WHERE text = 'planted'").run());
  expect(verify(t.path, t.firstKey, { mails: only2 }).code).toBe(0); // an mbox may start later (rotated)
  v = verify(t.path, t.firstKey, { mails: only1 });
  expect(v.code).toBe(1);
  expect(v.out).toContain("report #2 was accepted by the relay");
});

test("a record planted under a hostile name is reported with the name escaped", () => {
  scene();
  const evil = new Uint8Array([...enc("/usr/bin/\x1b[2J"), 0xff, 0x0a]);
  intruder((db) => db.query(
    "INSERT INTO entries (path, parent, type, mode, uid, gid, size, ino, nlink, mtime, ctime, checked) VALUES (?, ?, 'file', 493, 0, 0, 1, 1, 1, 0, 0, 0)",
  ).run(evil, enc("/usr/bin")));
  const v = verify(t.path, t.firstKey);
  expect(v.code).toBe(1);
  expect(v.out).toContain("is not in the chain: inserted");
  expect(v.out).not.toMatch(/[\x1b\xff]/);
  expect(v.out.split("\n").filter((l) => l.includes("/usr/bin/"))).toHaveLength(1); // the newline stays inside one line
});
