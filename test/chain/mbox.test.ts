import { expect, test } from "bun:test";
import { checkMails, type ChainView, parseMbox } from "../../src/chain/mbox.ts";
import { stampValue, type Stamp } from "../../src/chain/stamp.ts";

const mac = (c: string) => c.repeat(64);
const st = (report: number, from: number, to: number, time: number, m = "a"): Stamp => ({ report, kind: "report", from, to, epoch: 1, mac: mac(m), time, heartbeat: 100 });

test("stamps are read from folded headers, else from the body's last stamp line; mails without one are counted", () => {
  const s1 = st(1, 1, 5, 1000), s2 = st(2, 6, 9, 2000);
  const folded = stampValue(s1).replace("; to=", ";\n\tto=");
  const text = [
    `From a@b Mon Nov 30 00:00:00 2026\nSubject: x\nX-Integrityd-Chain: ${folded}\n\nbody\n>From here\n`,
    `From a@b Mon Nov 30 00:00:00 2026\nSubject: y\n\n  X-Integrityd-Chain: report=9 (an event line: indented)\nX-Integrityd-Chain: ${stampValue(s2)}\n`,
    "From a@b Mon Nov 30 00:00:00 2026\nSubject: other\n\nhello\n",
  ].join("\n");
  const { stamps, unstamped } = parseMbox(text);
  expect(stamps).toEqual([s1, s2]);
  expect(unstamped).toBe(1);
});

const view = (macs: Record<number, string>, head: number): ChainView => ({
  head, mails: [], entry: (seq) => (macs[seq] ? { mac: macs[seq], epoch: 1 } : null),
});

test("gaps, ranges, heads and silences (fake time)", () => {
  const ok = view({ 5: mac("a"), 9: mac("a"), 14: mac("a") }, 20);
  expect(checkMails([st(1, 1, 5, 1000), st(2, 6, 9, 50_000), st(3, 10, 14, 100_000)], ok, 110_000)).toEqual([]);
  const f = checkMails([st(1, 1, 5, 1000), st(3, 10, 14, 100_000)], ok, 110_000);
  expect(f.map((x) => x.text).join("\n")).toContain("report #2 is missing");
  const range = checkMails([st(1, 1, 5, 1000), st(2, 7, 9, 50_000)], ok, 60_000);
  expect(range).toEqual([{ seq: 7, text: "report #2 covers entries from 7, but report #1 ended at 5" }]);
  const head = checkMails([st(1, 1, 5, 1000, "b")], ok, 2000);
  expect(head[0].seq).toBe(5);
  const short = checkMails([st(1, 1, 25, 1000)], ok, 2000);
  expect(short[0]).toMatchObject({ seq: 21 });
  const silence = checkMails([st(1, 1, 5, 1000), st(2, 6, 9, 200_000)], ok, 210_000);
  expect(silence.map((x) => x.text).join("\n")).toMatch(/no mail between .* heartbeat every 1m 40s/);
  const now = checkMails([st(1, 1, 5, 1000)], ok, 152_000);
  expect(now[0].text).toContain("no mail since");
  expect(checkMails([st(1, 1, 5, 1000)], ok, 150_000)).toEqual([]);
});

test("a report number sent again with a later head (the database could not record the first send) is no finding; a forged head is", () => {
  const v = view({ 5: mac("a"), 7: mac("a") }, 10);
  expect(checkMails([st(1, 1, 5, 1000), st(1, 1, 7, 2000), st(2, 8, 9, 3000)], { ...v, entry: (s) => (s <= 9 ? { mac: mac("a"), epoch: 1 } : null) }, 4000)).toEqual([]);
  const forged = checkMails([st(1, 1, 5, 1000), st(1, 1, 7, 2000, "c")], v, 3000);
  expect(forged).toHaveLength(1);
  expect(forged[0].seq).toBe(7);
});
