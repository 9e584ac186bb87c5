import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { encodeFields, entryMac, eventPayload, evolve, heartbeatDue, hex, keyAt, nextSealAt, parseKey, showKey, silenceLimit, ZERO_MAC } from "../../src/chain/core.ts";
import { parseStamp, stampValue, type Stamp } from "../../src/chain/stamp.ts";

const K0 = Buffer.alloc(32, 1);

describe("chain core", () => {
  test("the MAC is HMAC-SHA256 over seq ‖ time ‖ kind ‖ hash ‖ previous MAC, as an outside HMAC computes it", () => {
    const hash = Buffer.alloc(32, 2);
    const msg = Buffer.concat([Buffer.from("0000000000000007", "hex"), Buffer.from("0000000000003039", "hex"), Buffer.from([5]), Buffer.from("event"), hash, ZERO_MAC]);
    expect(hex(entryMac(K0, 7, 12345, "event", hash, ZERO_MAC))).toBe(createHmac("sha256", K0).update(msg).digest("hex"));
  });

  test("each input changes the MAC", () => {
    const h = Buffer.alloc(32, 2);
    const base = hex(entryMac(K0, 1, 1, "event", h, ZERO_MAC));
    expect(hex(entryMac(K0, 2, 1, "event", h, ZERO_MAC))).not.toBe(base);
    expect(hex(entryMac(K0, 1, 2, "event", h, ZERO_MAC))).not.toBe(base);
    expect(hex(entryMac(K0, 1, 1, "record", h, ZERO_MAC))).not.toBe(base);
    expect(hex(entryMac(K0, 1, 1, "event", Buffer.alloc(32, 3), ZERO_MAC))).not.toBe(base);
    expect(hex(entryMac(K0, 1, 1, "event", h, Buffer.alloc(32, 9)))).not.toBe(base);
    expect(hex(entryMac(evolve(K0), 1, 1, "event", h, ZERO_MAC))).not.toBe(base);
  });

  test("evolution is HMAC(k, 'evolve'); keyAt walks it and leaves its input alone", () => {
    const k1 = evolve(K0);
    expect(hex(k1)).toBe(createHmac("sha256", K0).update("evolve").digest("hex"));
    expect(hex(keyAt(K0, 0, 3))).toBe(hex(evolve(evolve(k1))));
    expect(hex(keyAt(k1, 1, 3))).toBe(hex(keyAt(K0, 0, 3)));
    expect(K0.every((b) => b === 1)).toBe(true);
  });

  test("fields are length-prefixed and typed: no two lists give the same bytes", () => {
    expect(hex(encodeFields(["ab", "c"]))).not.toBe(hex(encodeFields(["a", "bc"])));
    expect(hex(encodeFields(["1"]))).not.toBe(hex(encodeFields([1])));
    expect(hex(encodeFields([null]))).not.toBe(hex(encodeFields([""])));
    expect(hex(encodeFields([5n]))).toBe(hex(encodeFields([5])));
    const e = { id: 1, time: 2, channel: "file", kind: "new", urgent: 0, subject: "/x", section: "", text: "t", details: "{}" };
    expect(hex(eventPayload(e))).not.toBe(hex(eventPayload({ ...e, text: "u" })));
  });

  test("the first key is shown in groups and read back with or without them; junk is refused", () => {
    const shown = showKey(K0);
    expect(shown).toMatch(/^([0-9a-f]{8}-){7}[0-9a-f]{8}$/);
    expect(hex(parseKey(shown)!)).toBe(hex(K0));
    expect(hex(parseKey(` ${hex(K0).toUpperCase()}\n`)!)).toBe(hex(K0));
    expect(parseKey("abc")).toBeNull();
    expect(parseKey(`${hex(K0)}00`)).toBeNull();
  });

  test("timing: seals a period after the last one, never in the past; heartbeat after a silent period", () => {
    expect(nextSealAt(1000, 900_000, 2000)).toBe(901_000);
    expect(nextSealAt(1000, 900_000, 5_000_000)).toBe(5_000_000);
    expect(heartbeatDue(0, 86_400_000, 86_399_999)).toBe(false);
    expect(heartbeatDue(0, 86_400_000, 86_400_000)).toBe(true);
    expect(heartbeatDue(0, 0, 1e12)).toBe(false);
    expect(silenceLimit(1000)).toBe(1500);
  });

  test("a stamp survives its header form; a damaged one is refused", () => {
    const s: Stamp = { report: 3, kind: "heartbeat", from: 10, to: 20, epoch: 4, mac: "ab".repeat(32), time: 1234, heartbeat: 86400 };
    expect(parseStamp(stampValue(s))).toEqual(s);
    expect(parseStamp(stampValue(s).replace("mac=ab", "mac=zz"))).toBeNull();
    expect(parseStamp("report=1")).toBeNull();
  });
});
