// The chain's life in a process: first key, seals, and taking the chain up
// after a crash between the seal and the key file, or beside a restored database.
import { afterEach, expect, test } from "bun:test";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { attached, chainHead } from "../../src/chain/append.ts";
import { closeChain, initChain, openChain, sealEpoch } from "../../src/chain/open.ts";
import { readKeyFile, writeKeyFile } from "../../src/chain/keyfile.ts";
import { evolve, keyAt, parseKey } from "../../src/chain/core.ts";
import { enqueue } from "../../src/db/events.ts";
import { openDatabase } from "../../src/db/db.ts";
import { chainedDatabase, verify, type ChainedDatabase } from "../support/chain.ts";

let t: ChainedDatabase;
afterEach(() => t?.cleanup());

const ev = (text: string) => ({ channel: "file" as const, kind: "changed", subject: "/etc/x", text });

test("the first key is never on disk: the key file holds k1, the evolved key; a second init makes nothing", () => {
  t = chainedDatabase();
  const k0 = parseKey(t.firstKey)!;
  const stored = readKeyFile(t.keyPath)!;
  expect(stored.epoch).toBe(1);
  expect(stored.key.equals(evolve(k0))).toBe(true);
  expect(readFileSync(t.keyPath, "latin1")).not.toContain(k0.toString("hex"));
  expect(readFileSync(t.path, "latin1")).not.toContain(k0.toString("hex"));
  const again = initChain(t.db, t.keyPath);
  expect(again.created).toBe(false);
  expect(readKeyFile(t.keyPath)!.key.equals(stored.key)).toBe(true);
});

test("every event is chained in its own transaction; a rolled-back one leaves no entry", () => {
  t = chainedDatabase();
  const before = chainHead(t.db)!.seq;
  enqueue(t.db, ev("one"));
  expect(chainHead(t.db)!.seq).toBe(before + 1);
  expect(() => t.db.transaction(() => {
    enqueue(t.db, ev("two"));
    throw new Error("rollback");
  })()).toThrow("rollback");
  expect(chainHead(t.db)!.seq).toBe(before + 1);
  expect(verify(t.path, t.firstKey).code).toBe(0);
});

test("a seal evolves the key in the file; a seal waits while a transaction is open", () => {
  t = chainedDatabase();
  enqueue(t.db, ev("a"));
  t.db.exec("BEGIN");
  expect(sealEpoch(t.db)).toBe(false);
  t.db.exec("COMMIT");
  expect(sealEpoch(t.db, Date.now())).toBe(true);
  expect(readKeyFile(t.keyPath)!.epoch).toBe(2);
  expect(attached(t.db)!.epoch).toBe(2);
  enqueue(t.db, ev("b"));
  expect(chainHead(t.db)!.epoch).toBe(2);
  const v = verify(t.path, t.firstKey);
  expect(v.out).toContain("epochs 0-2");
  expect(v.code).toBe(0);
});

test("a crash after the seal committed and before the key file moved: the next open evolves the file", () => {
  t = chainedDatabase();
  const k1 = readKeyFile(t.keyPath)!;
  sealEpoch(t.db);
  writeKeyFile(t.keyPath, k1); // as if the process died before overwriting the file
  closeChain(t.db);
  const st = openChain(t.db, t.keyPath, "test");
  expect(st).toEqual({ on: true, epoch: 2 });
  expect(readKeyFile(t.keyPath)!.key.equals(keyAt(k1.key, 1, 2))).toBe(true);
  enqueue(t.db, ev("after"));
  expect(verify(t.path, t.firstKey).code).toBe(0);
});

test("no key file beside a chain: off, and said; no chain at all: off until --init-db", () => {
  t = chainedDatabase();
  closeChain(t.db);
  const st = openChain(t.db, join(t.dir, "elsewhere.key"), "test");
  expect(st.on).toBe(false);
  expect(!st.on && st.reason).toContain("key file missing");
  const fresh = openDatabase(t.path); // same file, a new connection: nothing attached
  const copy = join(t.dir, "fresh.sqlite");
  fresh.close();
  copyFileSync(t.path, copy);
  const db2 = openDatabase(copy);
  db2.exec("DELETE FROM chain");
  const off = openChain(db2, t.keyPath, "test");
  expect(!off.on && off.reason).toContain("--init-db");
  db2.close();
});
