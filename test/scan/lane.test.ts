// The big-file lane (lane.ts): its queue on its own (pure), the runner with a
// fake host, and the attacks for real: a 1 TiB sparse file and a 200 MiB
// dense one, read beside a trickle that goes on finding small-file changes.
import { afterEach, describe, expect, test } from "bun:test";
import { BigFileLane, LaneQueue } from "../../src/scan/lane.ts";
import { pathFrom, type PathBytes } from "../../src/scan/paths.ts";

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
