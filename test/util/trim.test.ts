// Handing start-up's program pages back (src/util/trim.ts): only read-only
// mappings of our own executable (by path and inode) are chosen, and the call really lowers this
// process's file-backed RSS while the program keeps running.
import { expect, test } from "bun:test";
import { readFileSync, readlinkSync, statSync } from "node:fs";
import { trimRanges, trimStartupPages } from "../../src/util/trim.ts";

const MAPS = [
  "00200000-01a39000 r--p 00000000 fd:01 1234 /usr/local/sbin/integrityd",
  "01a40000-0684a000 r-xp 01838000 fd:01 1234 /usr/local/sbin/integrityd",
  "06867000-0708b000 rw-p 0665e000 fd:01 1234 /usr/local/sbin/integrityd",
  "0708b000-0708c000 r--p 06e82000 fd:01 1234 /usr/local/sbin/integrityd (deleted)",
  "7f00000000-7f00001000 r-xp 00000000 fd:01 99 /usr/lib/x86_64-linux-gnu/libc.so.6",
  "7f10000000-7f10001000 r-xp 00000000 fd:02 1234 /other/fs/same/inode",
  "35d2b000000-35d6b000000 rw-p 00000000 00:00 0 ",
  "garbage line",
  "",
].join("\n");

test("only the executable's read-only mappings, matched by path and inode (not device)", () => {
  expect(trimRanges(MAPS, "/usr/local/sbin/integrityd", 1234)).toEqual([
    [0x200000, 0x1a39000 - 0x200000],
    [0x1a40000, 0x684a000 - 0x1a40000],
    [0x708b000, 0x1000],
  ]);
  // a binary replaced by an upgrade: /proc/self/exe says "(deleted)" too
  expect(trimRanges(MAPS, "/usr/local/sbin/integrityd (deleted)", 1234).length).toBe(3);
  expect(trimRanges(MAPS, "/usr/local/sbin/integrityd", 4321)).toEqual([]);
  expect(trimRanges(MAPS, "/other/fs/same/inode", 99)).toEqual([]);
  // btrfs/overlayfs: the device in maps is not stat's; path and inode still match
  expect(trimRanges("00400000-00500000 r-xp 00000000 00:2f 1234 /usr/local/sbin/integrityd\n", "/usr/local/sbin/integrityd", 1234)).toEqual([[0x400000, 0x100000]]);
  // this process's own executable is found in its own maps
  expect(trimRanges(readFileSync("/proc/self/maps", "utf8"), readlinkSync("/proc/self/exe"), statSync("/proc/self/exe").ino).length).toBeGreaterThan(0);
});

test("the pages really go: file-backed RSS drops, and the program runs on", () => {
  const rssFile = () => Number(/RssFile:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))![1]);
  const before = rssFile();
  const asked = trimStartupPages();
  const after = rssFile();
  console.log(`trim: asked ${Math.round(asked / 1048576)} MiB, RssFile ${before} -> ${after} kB`);
  expect(asked).toBeGreaterThan(0);
  expect(after).toBeLessThan(before);
  expect(JSON.parse(JSON.stringify({ still: "running" }))).toEqual({ still: "running" });
});
