// The export-format parser against what the real journalctl prints for a
// journal file written by the real systemd-journal-remote: every split of the
// stream gives the same entries; binary fields, newlines and invalid UTF-8
// survive byte for byte; over-long values are cut and the stream goes on.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExportError, ExportParser, MAX_FIELD, type JournalEntry } from "../../../src/logs/journal/export.ts";
import { entry, exportBytes, journalToolsMissing, readExport, writeJournal } from "../../support/journal.ts";

const dir = mkdtempSync(join(tmpdir(), "integrityd-export-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const parseAll = (bytes: Buffer, sizes: (i: number) => number): JournalEntry[] => {
  const p = new ExportParser();
  const out: JournalEntry[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = Math.max(1, sizes(i));
    out.push(...p.push(bytes.subarray(at, at + n)));
    at += n;
  }
  expect(p.buffered).toBe(0);
  return out;
};

const BINARY = Buffer.from([0x41, 0x00, 0xff, 0xfe, 0x0a, 0x42, 0xc3, 0x28, 0x0a]); // NUL, invalid UTF-8, newlines

test("journalctl's export of a real journal file: every chunking gives the same entries, bytes intact", () => {
  const why = journalToolsMissing();
  if (why) return console.log(`skipped: ${why}`);
  const t0 = 1_790_000_000_000_000;
  const entries = [
    entry("Accepted password for root from 10.0.0.1 port 22 ssh2", t0),
    entry(BINARY, t0 + 1, { BLOB: Buffer.from([0, 1, 2, 255]) }),
    entry("multi\nline message", t0 + 2),
    entry("caf\xc3\xa9 plain utf-8 ✓", t0 + 3),
  ];
  writeJournal(join(dir, "x.journal"), entries);
  const bytes = readExport(dir);
  const whole = parseAll(bytes, () => bytes.length);
  expect(whole.length).toBe(4);
  expect(whole[0].get("MESSAGE")!.toString()).toBe("Accepted password for root from 10.0.0.1 port 22 ssh2");
  expect(Buffer.compare(whole[1].get("MESSAGE")!, BINARY)).toBe(0);
  expect([...whole[1].get("BLOB")!]).toEqual([0, 1, 2, 255]);
  expect(whole[2].get("MESSAGE")!.toString()).toBe("multi\nline message");
  expect(whole[3].get("MESSAGE")!.toString("utf8")).toBe("caf\xc3\xa9 plain utf-8 ✓");
  expect(whole.every((e) => e.get("__CURSOR")!.toString().startsWith("s="))).toBe(true);
  const flat = (es: JournalEntry[]) => es.map((e) => [...e.all()].map(([k, v]) => `${k}=${v.toString("hex")}`).join(","));
  for (const size of [1, 2, 3, 7, 8, 9, 64, 1000]) expect(flat(parseAll(bytes, () => size))).toEqual(flat(whole));
  let seed = 7;
  expect(flat(parseAll(bytes, () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 50))).toEqual(flat(whole));
});

test("a value longer than MAX_FIELD is cut (text or binary) and the next entries are whole", () => {
  const big = "x".repeat(MAX_FIELD + 5000);
  const bin = Buffer.alloc(MAX_FIELD * 3, 0xff);
  const bytes = exportBytes([{ MESSAGE: big, A: "1" }, { MESSAGE: bin, B: "2" }, { MESSAGE: "after", C: "3" }]);
  for (const size of [bytes.length, 1000, 4097]) {
    const es = parseAll(bytes, () => size);
    expect(es.length).toBe(3);
    expect(es[0].get("MESSAGE")!.length).toBe(MAX_FIELD);
    expect(es[0].cut).toEqual(["MESSAGE"]);
    expect(es[0].get("A")!.toString()).toBe("1");
    expect(es[1].get("MESSAGE")!.length).toBe(MAX_FIELD);
    expect(es[1].cut).toEqual(["MESSAGE"]);
    expect(es[1].get("B")!.toString()).toBe("2");
    expect(es[2].get("MESSAGE")!.toString()).toBe("after");
    expect(es[2].cut).toEqual([]);
  }
});

test("a binary field without its newline is a format error, not a silent misparse", () => {
  const bad = Buffer.concat([Buffer.from("MESSAGE\n"), Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]), Buffer.from("abcX\n\n")]);
  expect(() => new ExportParser().push(bad)).toThrow(ExportError);
});

test("int, is and has read fields in place: digits only, up to 2^53; exact bytes", () => {
  const [e] = new ExportParser().push(exportBytes([{ A: "1796022983010911", B: "12x", C: "99999999999999999", D: "", E: "/usr/sbin/sshd" }]));
  expect(e.int("A")).toBe(1796022983010911);
  expect(e.int("B")).toBeNull();
  expect(e.int("C")).toBeNull();
  expect(e.int("D")).toBeNull();
  expect(e.int("Z")).toBeNull();
  expect(e.is("E", "/usr/sbin/sshd")).toBe(true);
  expect(e.is("E", "/usr/sbin/ssh")).toBe(false);
  expect(e.is("E", "/usr/sbin/sshX")).toBe(false);
  expect(e.has("D")).toBe(true);
  expect(e.has("F")).toBe(false);
});
