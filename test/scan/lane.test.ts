// The big-file lane (lane.ts): its queue on its own (pure), the runner with a
// fake host, and the attacks for real: a 1 TiB sparse file and a 200 MiB
// dense one, read beside a trickle that goes on finding small-file changes.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, closeSync, openSync, readSync, statSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { BigFileLane, LaneQueue } from "../../src/scan/lane.ts";
import { pathFrom, type PathBytes } from "../../src/scan/paths.ts";
import { sparseDigest } from "../../src/scan/sparse.ts";
import { throwawayUser, type User } from "../support/users.ts";
import { liveScanner, makeEnv, pacedScanner, scanOnce, sha256, until, type Env } from "./helpers.ts";

let env: Env | null = null;
let user: User | null = null;
afterEach(() => {
  user?.remove();
  user = null;
  env?.cleanup();
  env = null;
});

const p = (s: string) => pathFrom(s);
const str = (b: PathBytes | null) => (b === null ? null : Buffer.from(b).toString());

describe("lane queue (pure)", () => {
  test("first offered, first read; a path is held once, from its offer until its read is finished", () => {
    const q = new LaneQueue(3);
    expect(q.offer(p("/a"))).toBe("queued");
    expect(q.offer(p("/b"))).toBe("queued");
    expect(q.offer(p("/a"))).toBe("held");
    expect(q.size).toBe(2);
    expect(str(q.start())).toBe("/a");
    expect(q.has(p("/a"))).toBe(true); // being read: still held
    expect(q.offer(p("/a"))).toBe("held");
    q.finish();
    expect(q.has(p("/a"))).toBe(false);
    expect(q.offer(p("/a"))).toBe("queued"); // offered again after its read: read again, after /b
    expect(str(q.start())).toBe("/b");
    q.finish();
    expect(str(q.start())).toBe("/a");
    q.finish();
    expect(q.start()).toBeNull();
    expect(q.size).toBe(0);
  });

  test("a hinted path jumps the queue: offered first, or moved to the front when already waiting", () => {
    const q = new LaneQueue(4);
    q.offer(p("/a"));
    q.offer(p("/b"));
    q.offer(p("/c"));
    expect(q.offer(p("/c"), true)).toBe("held");
    expect(q.offer(p("/h"), true)).toBe("queued");
    expect(str(q.start())).toBe("/h");
    q.finish();
    expect(str(q.start())).toBe("/c");
    q.finish();
    expect(str(q.start())).toBe("/a");
  });

  test("bounded: a full lane refuses, and takes again once one has been started", () => {
    const q = new LaneQueue(2);
    expect(q.offer(p("/a"))).toBe("queued");
    expect(q.offer(p("/b"))).toBe("queued");
    expect(q.offer(p("/c"))).toBe("full");
    expect(q.has(p("/c"))).toBe(false);
    q.start(); // /a being read: one place free among the waiting
    expect(q.offer(p("/c"))).toBe("queued");
    expect([...q.held].sort()).toEqual(["/a", "/b", "/c"].map((s) => Buffer.from(s).toString("latin1")).sort());
  });
});

describe("lane runner (fake host)", () => {
  test("one file at a time, in order; busy until the last is done; nextDone wakes on each", async () => {
    const order: string[] = [];
    let reading = 0;
    let most = 0;
    const gates: (() => void)[] = [];
    const lane = new BigFileLane({
      stopped: false,
      visitBig: async (path) => {
        reading++;
        most = Math.max(most, reading);
        order.push(str(path)!);
        await new Promise<void>((r) => gates.push(r));
        reading--;
      },
    });
    expect(lane.busy).toBe(false);
    lane.offer(p("/x"));
    lane.offer(p("/y"));
    lane.offer(p("/z"));
    expect(lane.busy).toBe(true);
    await Bun.sleep(1);
    expect(order).toEqual(["/x"]);
    const done = lane.nextDone();
    gates.shift()!();
    await done;
    await Bun.sleep(1);
    expect(order).toEqual(["/x", "/y"]);
    gates.shift()!();
    await Bun.sleep(1);
    gates.shift()!();
    await lane.idle();
    expect(order).toEqual(["/x", "/y", "/z"]);
    expect(most).toBe(1);
    expect(lane.busy).toBe(false);
  });

  test("on stop the file being read is let go and nothing waiting is started; an error is logged and the lane goes on", async () => {
    const host = { stopped: false, seen: [] as string[], visitBig: async (path: PathBytes) => {
      host.seen.push(str(path)!);
      if (str(path) === "/bad") throw new Error("boom");
      await Bun.sleep(5);
      host.stopped = true;
    } };
    const lane = new BigFileLane(host);
    lane.offer(p("/bad"));
    lane.offer(p("/one"));
    lane.offer(p("/two"));
    await lane.idle();
    expect(host.seen).toEqual(["/bad", "/one"]);
    expect(lane.busy).toBe(false);
    expect(lane.held.size).toBe(0);
  });
});

describe("in the trickle (fake clock)", () => {
  test("a big file deleted while the lane reads it: reported deleted once, nothing else", async () => {
    env = makeEnv({ smallfiles: 4096, byterate: 65536, speedup: 1 });
    const f = join(env.area, "big");
    writeFileSync(f, "b".repeat(65536));
    writeFileSync(join(env.area, "small"), "s");
    await scanOnce(env.config);
    let gone = false;
    const s = pacedScanner(env, {
      hooks: {
        chunk: (p, sofar) => {
          if (!gone && str(p) === f && sofar >= 16384) {
            gone = true;
            unlinkSync(f);
          }
        },
      },
    });
    await s.scanner.runCycle();
    expect(gone).toBe(true);
    expect(s.events.map((e) => e.text)).toEqual([`Deleted: ${f}`]);
    expect(s.scanner.store.get(pathFrom(f))).toBeNull();
    expect(s.scanner.lane!.busy).toBe(false);
    s.close();
  });

  test("a full lane: the big file it refuses is reported as not read, never silently skipped, and read on a later visit", async () => {
    env = makeEnv({ smallfiles: 4096, byterate: 1 << 20, speedup: 1 });
    const big = ["b1", "b2", "b3"].map((n) => join(env!.area, n));
    big.forEach((p, i) => writeFileSync(p, String(i).repeat(65536)));
    const s = pacedScanner(env, { laneCapacity: 1 });
    await s.scanner.runCycle(); // first pass: one read at once, one waiting, the third refused
    const refused = big.filter((p) => s.scanner.store.get(pathFrom(p))!.error !== null);
    expect(refused).toHaveLength(1);
    expect(s.scanner.store.get(pathFrom(refused[0]))!.error).toBe("content not read this time: too many big files waiting to be read");
    expect(s.events.filter((e) => e.kind === "error").map((e) => e.text.split("\n")[0])).toEqual([`Error: ${refused[0]}: content not read this time: too many big files waiting to be read`]);
    // with room in the lane again (the other two gone), its next visit reads it
    for (const p of big) if (p !== refused[0]) unlinkSync(p);
    await s.scanner.runCycle();
    const i = big.indexOf(refused[0]);
    expect(s.scanner.store.get(pathFrom(refused[0]))).toMatchObject({ error: null, hash: sha256(String(i).repeat(65536)) });
    s.close();
  });
});

describe("attacks, for real (real timers)", () => {
  const TiB = 2 ** 40;
  const K64 = 65536;

  test("a 1 TiB sparse file made by a user: read from its data only, beside a trickle that keeps finding small changes; a byte in a hole is a change", async () => {
    user = throwawayUser("sparse file attack");
    if (!user) return;
    env = makeEnv({ filerate: 200, speedup: 1, smallfiles: 4096, byterate: 32 * 1024 });
    chmodSync(env.dir, 0o755);
    chmodSync(env.area, 0o1777);
    for (let i = 0; i < 5; i++) writeFileSync(join(env.area, `s${i}`), `small ${i}`);
    const huge = join(env.area, "huge");
    let most = 0;
    const live = liveScanner(env, { hooks: { chunk: (p, sofar) => void (Buffer.from(p).toString() === huge && (most = Math.max(most, sofar))) } });
    try {
      expect(await until(() => live.scanner.firstPassComplete, 10_000)).toBe(true);
      // the attack: 1 TiB apparent, four 64 KiB data extents far apart
      expect(user.run(["truncate", "-s", "1T", huge]).code).toBe(0);
      const offsets = [1 << 20, 2 ** 38, 2 ** 39, TiB - K64];
      for (const off of offsets) {
        const r = user.run(["dd", "if=/dev/urandom", `of=${huge}`, `bs=${K64}`, "count=1", `seek=${off / K64}`, "conv=notrunc", "status=none"]);
        expect(r).toMatchObject({ code: 0 });
      }
      expect(Number(statSync(huge, { bigint: true }).blocks) * 512).toBeLessThan(1 << 20);
      // 256 KiB of data at 32 KiB/s: the lane is busy for ~8 s
      expect(await until(() => live.scanner.lane!.busy, 5000)).toBe(true);
      const t0 = performance.now();
      writeFileSync(join(env.area, "fresh"), "new small file");
      writeFileSync(join(env.area, "s1"), "changed small file");
      const found = () => live.events.some((e) => e.text.startsWith(`New: ${join(env!.area, "fresh")}`)) && live.events.some((e) => e.text.startsWith(`Changed: ${join(env!.area, "s1")}`));
      expect(await until(found, 3000)).toBe(true);
      expect(performance.now() - t0).toBeLessThan(3000);
      expect(live.scanner.lane!.busy).toBe(true); // found while the big file was still being read
      const hugeEvents = () => live.events.filter((e) => e.text.split("\n")[0].endsWith(huge));
      expect(await until(() => hugeEvents().length > 0, 20_000)).toBe(true);
      expect(hugeEvents().map((e) => e.kind)).toEqual(["new"]);
      // recorded with the sparse digest of exactly its data extents (the holes never read)
      const fd = openSync(huge, "r");
      const layout = offsets.map((offset) => {
        const data = Buffer.alloc(K64);
        readSync(fd, data, 0, K64, offset);
        return { offset, data };
      });
      closeSync(fd);
      const row = live.scanner.store.get(pathFrom(huge))!;
      expect(row.hash).toBe(sparseDigest("sha256", layout, TiB));
      expect(most).toBeLessThan(offsets.length * K64); // bytes read before the last chunk: data only

      // one byte written into a hole by the user: reported as changed (faster now)
      live.scanner.setConfig({ ...env.config, byterate: 1 << 20 });
      expect(user.run(["dd", "if=/dev/zero", `of=${huge}`, "bs=1", "count=1", `seek=${2 ** 37}`, "conv=notrunc", "status=none"]).code).toBe(0);
      expect(await until(() => hugeEvents().length > 1, 20_000)).toBe(true);
      const ch = hugeEvents()[1];
      expect(ch.kind).toBe("changed");
      expect(ch.text).toMatch(/hash: sparse-sha256:[0-9a-f]{64} => sparse-sha256:[0-9a-f]{64}/);
    } finally {
      await live.stop();
    }
  }, 60_000);

  test("a 200 MiB dense file at 1 MiB/s: small changes keep being found while it is read; its hash is right; reported once", async () => {
    env = makeEnv({ filerate: 200, speedup: 1, smallfiles: 65536, byterate: 1 << 20 });
    for (let i = 0; i < 5; i++) writeFileSync(join(env.area, `s${i}`), `small ${i}`);
    const big = join(env.area, "big");
    const live = liveScanner(env);
    try {
      expect(await until(() => live.scanner.firstPassComplete, 10_000)).toBe(true);
      const block = Buffer.alloc(1 << 20);
      crypto.getRandomValues(block.subarray(0, 65536));
      const fd = openSync(join(env.dir, "big.tmp"), "w");
      for (let i = 0; i < 200; i++) {
        block.writeUInt32LE(i, 65536); // every MiB different
        writeSync(fd, block);
      }
      closeSync(fd);
      Bun.spawnSync(["mv", join(env.dir, "big.tmp"), big]);
      const want = Bun.spawnSync(["sha256sum", big]).stdout.toString().split(" ")[0];
      expect(want).toMatch(/^[0-9a-f]{64}$/);
      expect(await until(() => live.scanner.lane!.busy, 5000)).toBe(true);
      // two rounds of small changes while the lane reads (200 s of work at this rate)
      for (const [i, name] of [[2, "fresh1"], [3, "fresh2"]] as const) {
        const t0 = performance.now();
        writeFileSync(join(env.area, name), name);
        writeFileSync(join(env.area, `s${i}`), `changed ${i}`);
        const found = () => live.events.some((e) => e.text.startsWith(`New: ${join(env!.area, name)}`)) && live.events.some((e) => e.text.startsWith(`Changed: ${join(env!.area, `s${i}`)}`));
        expect(await until(found, 3000)).toBe(true);
        expect(performance.now() - t0).toBeLessThan(3000);
        expect(live.scanner.lane!.busy).toBe(true);
      }
      // finish the read quickly: the lane takes the new rate at its next chunk
      live.scanner.setConfig({ ...env.config, byterate: 1 << 30 });
      const bigEvents = () => live.events.filter((e) => e.text.split("\n")[0].endsWith(big));
      expect(await until(() => bigEvents().length > 0, 30_000)).toBe(true);
      expect(live.scanner.store.get(pathFrom(big))!.hash).toBe(`sha256:${want}`);
      // a later cycle reads it again and finds nothing to report
      const cycle = live.scanner.cycleNumber;
      expect(await until(() => live.scanner.cycleNumber >= cycle + 2, 30_000)).toBe(true);
      expect(bigEvents().map((e) => e.kind)).toEqual(["new"]);
    } finally {
      await live.stop();
    }
  }, 90_000);
});
