// The state machine alone: previous state + observation -> new state + events.
import { describe, expect, test } from "bun:test";
import { type Observation, type PidState, type ProcInfo, step } from "../../src/pids/state.ts";

const F = "/run/sshd.pid";
const BOOT = "boot-a";
const proc = (over: Partial<ProcInfo> = {}): ProcInfo => ({
  pid: 100, hostpid: 100, start: 5000, started: 1_700_000_000_000, boot: BOOT, name: "sshd", state: "S", ...over,
});
const alive = (over: Partial<ProcInfo> = {}): Observation => ({ kind: "alive", proc: proc(over) });
const gone = (pid = 100): Observation => ({ kind: "gone", pid });
const missing: Observation = { kind: "missing" };
const bad = (reason: "garbage" | "empty" | "symlink" = "garbage"): Observation => ({ kind: "bad", reason, detail: `bad ${reason}` });

/** Run a sequence of observations, starting from a baseline of the first. */
function run(obs: Observation[], baselineFirst = true): { state: PidState; kinds: string[][]; texts: string[] } {
  let t = 1_700_000_100_000;
  let r = step(F, null, obs[0], t, baselineFirst);
  const kinds = [r.events.map((e) => e.kind)];
  const texts = r.events.map((e) => e.text);
  for (const o of obs.slice(1)) {
    t += 30_000;
    r = step(F, r.next, o, t, false);
    kinds.push(r.events.map((e) => e.kind));
    texts.push(...r.events.map((e) => e.text));
  }
  return { state: r.next, kinds, texts };
}

describe("baseline", () => {
  test("first observation records without events, whatever it is", () => {
    for (const o of [alive(), gone(), missing, alive({ state: "Z" })]) {
      const r = step(F, null, o, 1, true);
      expect(r.events).toEqual([]);
    }
    expect(step(F, null, alive(), 1, true).next.status).toBe("ok");
    expect(step(F, null, gone(), 1, true).next.status).toBe("died");
  });
  test("an unusable PID file is reported even in a baseline, once", () => {
    const r = step(F, null, bad("symlink"), 1, true);
    expect(r.events.map((e) => e.kind)).toEqual(["error"]);
    expect(step(F, r.next, bad("symlink"), 2, false).events).toEqual([]);
  });
  test("a file seen for the first time outside a baseline is 'created'", () => {
    const r = step(F, null, alive(), 1, false);
    expect(r.events.map((e) => e.kind)).toEqual(["created"]);
    expect(r.events[0].text).toContain(F);
    expect(r.events[0].text).toContain("created");
  });
  test("no file, and still no file: nothing", () => {
    expect(step(F, null, missing, 1, false).events).toEqual([]);
  });
});

describe("transitions", () => {
  test("still running: nothing, every cycle", () => {
    expect(run([alive(), alive(), alive()]).kinds).toEqual([[], [], []]);
  });
  test("died once, then nothing while still dead", () => {
    const r = run([alive(), gone(), gone(), gone()]);
    expect(r.kinds).toEqual([[], ["died"], [], []]);
    expect(r.texts[0]).toContain(F);
    expect(r.texts[0]).toContain("died");
    expect(r.texts[0]).toContain("PID 100 (sshd)");
    expect(r.texts[0]).toContain("lived at least 1m 40s");
  });
  test("died is urgent, others are not", () => {
    const s0 = step(F, null, alive(), 1, true).next;
    expect(step(F, s0, gone(), 2, false).events[0].urgent).toBe(true);
    expect(step(F, s0, missing, 2, false).events[0].urgent).toBe(false);
  });
  test("zombie once, then died when reaped, then recovered", () => {
    const r = run([alive(), alive({ state: "Z" }), alive({ state: "Z" }), gone(), alive({ pid: 200, hostpid: 200, start: 9000 })]);
    expect(r.kinds).toEqual([[], ["zombie"], [], ["died"], ["recovered"]]);
    expect(r.texts[2]).toContain("PID 200 (sshd) running, a new process (previous: PID 100 (sshd))");
  });
  test("restart under a new PID", () => {
    const r = run([alive(), alive({ pid: 200, hostpid: 200, start: 9000 }), alive({ pid: 200, hostpid: 200, start: 9000 })]);
    expect(r.kinds).toEqual([[], ["restarted"], []]);
    expect(r.texts[0]).toContain("restarted: PID 100 (sshd) was replaced by PID 200 (sshd)");
    expect(r.texts[0]).not.toContain("PID reused");
  });
  test("same PID, another start time: PID reuse is a restart", () => {
    const r = run([alive(), alive({ start: 9000, name: "evil" })]);
    expect(r.kinds).toEqual([[], ["restarted"]]);
    expect(r.texts[0]).toContain("PID reused");
    expect(r.state.name).toBe("evil");
  });
  test("same PID and start after a reboot (other boot id) is another process", () => {
    expect(run([alive(), alive({ boot: "boot-b" })]).kinds).toEqual([[], ["restarted"]]);
  });
  test("file removed, then created again with a live process", () => {
    const r = run([alive(), missing, missing, alive({ pid: 300, hostpid: 300, start: 1 })]);
    expect(r.kinds).toEqual([[], ["removed"], [], ["created"]]);
    expect(r.texts[0]).toContain("removed");
    expect(r.texts[1]).toContain("PID 300 (sshd) running");
  });
  test("file created naming a dead PID: created and died", () => {
    expect(run([missing, gone(42)]).kinds).toEqual([[], ["created", "died"]]);
  });
  test("garbage: one error, a different problem: another, then recovered", () => {
    const r = run([alive(), bad("garbage"), bad("garbage"), bad("empty"), alive()]);
    expect(r.kinds).toEqual([[], ["error"], [], ["error"], ["recovered"]]);
    expect(r.texts[2]).toContain("the PID file is valid again");
  });
  test("dead, then the file names another dead PID: died again (a new subject)", () => {
    expect(run([alive(), gone(100), gone(100), gone(101)]).kinds).toEqual([[], ["died"], [], ["died"]]);
  });
  test("a zombie replaced by a running process is recovered, not restarted", () => {
    expect(run([alive({ state: "Z" }), alive({ pid: 5, hostpid: 5, start: 7 })]).kinds).toEqual([[], ["recovered"]]);
  });
  test("restarted straight into a zombie reports the zombie with the old process", () => {
    const r = run([alive(), alive({ pid: 7, hostpid: 7, start: 8, state: "Z" })]);
    expect(r.kinds).toEqual([[], ["zombie"]]);
    expect(r.texts[0]).toContain("previous process: PID 100 (sshd)");
  });
  test("the last process is kept after death; since tracks changes only", () => {
    const r0 = step(F, null, alive(), 10, true).next;
    const r1 = step(F, r0, alive(), 20, false).next;
    expect(r1.since).toBe(10);
    expect(r1.seen).toBe(20);
    const r2 = step(F, r1, gone(), 30, false).next;
    expect(r2.since).toBe(30);
    expect(r2.pid).toBe(100);
    expect(r2.name).toBe("sshd");
    expect(r2.status).toBe("died");
  });
  test("every report line has the path and its kind word", () => {
    const seqs: Observation[][] = [
      [missing, alive(), missing], [alive(), gone(), alive({ start: 2 })], [alive(), alive({ state: "Z" })],
      [alive(), alive({ start: 3 })], [alive(), bad()],
    ];
    for (const s of seqs) {
      let st = step(F, null, s[0], 0, true).next;
      for (const o of s.slice(1)) {
        const r = step(F, st, o, 1, false);
        for (const e of r.events) {
          expect(e.text.startsWith(`${F}: ${e.kind}: `)).toBe(true);
          expect(e.details.pidfile).toBe(F);
        }
        st = r.next;
      }
    }
  });
});

test("a process back after a death or a zombie says so in plain words", () => {
  const died = run([alive(), gone(), alive({ pid: 200, hostpid: 200, start: 9000 })]).texts.join("\n");
  expect(died).toContain("it had died");
  expect(died).not.toContain("was died");
  const zombie = run([alive(), alive({ state: "Z" }), alive({ state: "S" })]).texts.join("\n");
  expect(zombie).toContain("it had been a zombie");
});
