// events_inbox (src/db/events.ts, src/db/inbox.ts): a second process without
// the chain key (the apt hook) must not plant unchained events rows; the
// daemon adopts them, chained, and the verifier finds the chain intact.
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { adoptInbox, enqueue, ownQueue } from "../../src/db/events.ts";
import { chainedDatabase, verify } from "../support/chain.ts";

const count = (db: Database, table: string) => (db.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

test("an event queued without the chain key waits in the inbox until the daemon adopts it, chained", () => {
  const c = chainedDatabase();
  try {
    const before = count(c.db, "events");
    // the hook: another connection, no key attached
    const hook = new Database(c.path);
    hook.exec("PRAGMA busy_timeout = 5000");
    const id = enqueue(hook, { channel: "file", kind: "package", subject: "coreutils", text: "coreutils 9.1-1 → 9.1-2: 105 files, content verified" });
    hook.close();
    expect(id).toBe(0);
    expect(count(c.db, "events")).toBe(before);
    expect(count(c.db, "events_inbox")).toBe(1);
    // the daemon (key attached) adopts it
    expect(adoptInbox(c.db)).toBe(1);
    expect(count(c.db, "events_inbox")).toBe(0);
    const row = c.db.query("SELECT kind, subject FROM events ORDER BY id DESC LIMIT 1").get();
    expect(row).toEqual({ kind: "package", subject: "coreutils" });
    c.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    const v = verify(c.path, c.firstKey);
    expect(v.first).toBeNull();
    expect(v.code).toBe(0);
  } finally {
    c.cleanup();
  }
});

test("the process that owns the queue (the daemon, without its key file) queues straight into events", () => {
  const c = chainedDatabase();
  try {
    const daemon = new Database(c.path);
    ownQueue(daemon);
    const id = enqueue(daemon, { channel: "log", kind: "alert", urgent: true, subject: "/var/log/auth.log", text: "x" });
    daemon.close();
    expect(id).toBeGreaterThan(0);
    expect(count(c.db, "events_inbox")).toBe(0);
  } finally {
    c.cleanup();
  }
});

test("without a chain an event goes straight into events", () => {
  const c = chainedDatabase();
  try {
    c.db.exec("DELETE FROM chain");
    const other = new Database(c.path);
    const id = enqueue(other, { channel: "file", kind: "package", subject: "x", text: "x" });
    other.close();
    expect(id).toBeGreaterThan(0);
    expect(count(c.db, "events_inbox")).toBe(0);
  } finally {
    c.cleanup();
  }
});
