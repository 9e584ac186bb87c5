import { describe, expect, test } from "bun:test";
import { decide, type Decision, type PolicyInput, RETRY_MAX, retryDelay, URGENT_INTERVAL } from "../../src/report/policy.ts";

const S = 1000;
const config = { reporttime: 30, reportholdoff: 900, logreporttime: 10, logreportholdoff: 300 };
const T0 = 1_700_000_000_000;

function input(over: Partial<PolicyInput>): PolicyInput {
  return { now: T0, pending: {}, lastMail: {}, failures: { count: 0 }, config, ...over };
}
const send = (groups: string[]) => ({ action: "send", groups }) as Partial<Decision>;
const wait = (at: number) => ({ action: "wait", at }) as Partial<Decision>;

describe("policy", () => {
  test("nothing pending: idle", () => {
    expect(decide(input({}))).toEqual({ action: "idle" });
    expect(decide(input({ pending: { file: { count: 0, first: T0 } } }))).toEqual({ action: "idle" });
  });

  test("file events pool for reporttime after the first one", () => {
    const pending = { file: { count: 3, first: T0 } };
    expect(decide(input({ now: T0, pending }))).toMatchObject(wait(T0 + 30 * S));
    expect(decide(input({ now: T0 + 29_999, pending }))).toMatchObject(wait(T0 + 30 * S));
    expect(decide(input({ now: T0 + 30 * S, pending }))).toMatchObject(send(["file"]));
  });

  test("log and pid events use logreporttime", () => {
    const pending = { log: { count: 1, first: T0 } };
    expect(decide(input({ now: T0 + 9 * S, pending }))).toMatchObject(wait(T0 + 10 * S));
    expect(decide(input({ now: T0 + 10 * S, pending }))).toMatchObject(send(["log"]));
  });

  test("hold-off: at least reportholdoff between two file mails", () => {
    const pending = { file: { count: 1, first: T0 + 100 * S } };
    const lastMail = { file: T0 };
    expect(decide(input({ now: T0 + 130 * S, pending, lastMail }))).toMatchObject(wait(T0 + 900 * S));
    expect(decide(input({ now: T0 + 900 * S, pending, lastMail }))).toMatchObject(send(["file"]));
    // pooling still applies after the hold-off: a late first event waits its pool time
    const late = { file: { count: 1, first: T0 + 899 * S } };
    expect(decide(input({ now: T0 + 900 * S, pending: late, lastMail }))).toMatchObject(wait(T0 + 929 * S));
  });

  test("hold-off of the log group uses logreportholdoff and is independent of the file group", () => {
    const pending = { log: { count: 1, first: T0 + 1 * S } };
    expect(decide(input({ now: T0 + 20 * S, pending, lastMail: { log: T0 } }))).toMatchObject(wait(T0 + 300 * S));
    expect(decide(input({ now: T0 + 20 * S, pending, lastMail: { file: T0 } }))).toMatchObject(send(["log"]));
  });

  test("urgent events skip pooling and hold-off", () => {
    const pending = { urgent: { count: 1, first: T0 } };
    expect(decide(input({ now: T0, pending }))).toMatchObject(send(["urgent"]));
    // a recent non-urgent mail does not hold an urgent one back
    expect(decide(input({ now: T0, pending, lastMail: { file: T0 - 1, log: T0 - 1 } }))).toMatchObject(send(["urgent"]));
  });

  test("urgent mails are capped at one a minute", () => {
    const pending = { urgent: { count: 500, first: T0 } };
    const lastMail = { urgent: T0 - 10 * S };
    expect(decide(input({ now: T0, pending, lastMail }))).toMatchObject(wait(T0 - 10 * S + URGENT_INTERVAL));
    expect(decide(input({ now: T0 + 50 * S, pending, lastMail }))).toMatchObject(send(["urgent"]));
  });

  test("capped urgent events go into the next mail, whatever triggers it", () => {
    const pending = { urgent: { count: 2, first: T0 }, file: { count: 1, first: T0 - 30 * S } };
    const d = decide(input({ now: T0, pending, lastMail: { urgent: T0 - 1 * S } }));
    expect(d).toMatchObject(send(["urgent", "file"]));
  });

  test("ride-along: a group past its pooling window joins a mail despite its hold-off", () => {
    // urgent mail goes out; log events pooled long enough ride along although the log hold-off runs
    const pending = { urgent: { count: 1, first: T0 }, log: { count: 4, first: T0 - 60 * S } };
    expect(decide(input({ now: T0, pending, lastMail: { log: T0 - 100 * S } }))).toMatchObject(send(["urgent", "log"]));
    // a file mail is due; log events still in their pooling window stay out
    const p2 = { file: { count: 1, first: T0 - 30 * S }, log: { count: 1, first: T0 - 5 * S } };
    expect(decide(input({ now: T0, pending: p2 }))).toMatchObject(send(["file"]));
    // ... and go as soon as their own window ends (the ride-along did not count as a log mail)
    expect(decide(input({ now: T0 + 5 * S, pending: { log: p2.log }, lastMail: { file: T0 } }))).toMatchObject(send(["log"]));
  });

  test("both groups due: one mail with both", () => {
    const pending = { file: { count: 1, first: T0 - 40 * S }, log: { count: 1, first: T0 - 40 * S } };
    expect(decide(input({ pending }))).toMatchObject(send(["file", "log"]));
  });

  test("wakes at the earliest due group", () => {
    const pending = { file: { count: 1, first: T0 }, log: { count: 1, first: T0 + 5 * S } };
    expect(decide(input({ now: T0 + 5 * S, pending }))).toMatchObject(wait(T0 + 15 * S));
  });

  test("retry backoff: 30 s doubling to 30 min", () => {
    expect(retryDelay(0)).toBe(0);
    expect(retryDelay(1)).toBe(30 * S);
    expect(retryDelay(2)).toBe(60 * S);
    expect(retryDelay(3)).toBe(120 * S);
    expect(retryDelay(7)).toBe(RETRY_MAX);
    expect(retryDelay(1000)).toBe(RETRY_MAX);
    expect(retryDelay(3, 100)).toBe(400);
    const pending = { file: { count: 1, first: T0 - 100 * S } };
    expect(decide(input({ pending, failures: { count: 2, last: T0 }, retryFirst: 100 }))).toMatchObject(wait(T0 + 200));
  });

  test("after a failure nothing is sent before the backoff, urgent included", () => {
    const pending = { urgent: { count: 1, first: T0 }, file: { count: 1, first: T0 - 100 * S } };
    const failures = { count: 2, last: T0 - 10 * S };
    expect(decide(input({ pending, failures }))).toMatchObject(wait(T0 + 50 * S));
    expect(decide(input({ now: T0 + 50 * S, pending, failures }))).toMatchObject(send(["urgent", "file"]));
    // the backoff does not make a not-yet-due group due
    const p2 = { file: { count: 1, first: T0 } };
    expect(decide(input({ now: T0 + 1 * S, pending: p2, failures: { count: 1, last: T0 } }))).toMatchObject(wait(T0 + 30 * S));
    expect(decide(input({ now: T0 + 1 * S, pending: p2, failures: { count: 3, last: T0 } }))).toMatchObject(wait(T0 + 120 * S));
  });

  test("zero pool and hold-off: immediate", () => {
    const zero = { reporttime: 0, reportholdoff: 0, logreporttime: 0, logreportholdoff: 0 };
    const pending = { file: { count: 1, first: T0 } };
    expect(decide(input({ pending, lastMail: { file: T0 }, config: zero }))).toMatchObject(send(["file"]));
  });

  test("times in the future (clock went back) are clamped to now", () => {
    const future = T0 + 86_400 * S;
    const pending = { file: { count: 1, first: future } };
    expect(decide(input({ pending, lastMail: { file: future } }))).toMatchObject(wait(T0 + 900 * S));
    expect(decide(input({ pending: { urgent: { count: 1, first: future } }, lastMail: { urgent: future } }))).toMatchObject(wait(T0 + URGENT_INTERVAL));
    expect(decide(input({ pending, failures: { count: 1, last: future } }))).toMatchObject(wait(T0 + 30 * S));
  });

  test("a fake clock run: a burst pooled, the next held off, a flood of urgent capped", () => {
    // simulate: each step asks the policy; a "send" is accepted at once
    const lastMail: PolicyInput["lastMail"] = {};
    const queue: { time: number; group: "file" | "log" | "urgent" }[] = [];
    const mails: { time: number; n: number }[] = [];
    const arrivals = new Map<number, "file" | "log" | "urgent">();
    for (let i = 0; i < 5; i++) arrivals.set(T0 + i * S, "file"); // burst
    arrivals.set(T0 + 100 * S, "file"); // next one, held off
    for (let i = 0; i < 200; i++) arrivals.set(T0 + 2000 * S + i * 500, "urgent"); // flood: 100 s
    for (let now = T0; now < T0 + 3000 * S; now += 500) {
      const a = arrivals.get(now);
      if (a) queue.push({ time: now, group: a });
      const pending: PolicyInput["pending"] = {};
      for (const e of queue) {
        const p = (pending[e.group] ??= { count: 0, first: e.time });
        p.count++;
      }
      const d = decide(input({ now, pending, lastMail }));
      if (d.action === "send") {
        const taken = queue.filter((e) => d.groups.includes(e.group));
        for (const g of d.groups) lastMail[g] = now;
        mails.push({ time: now, n: taken.length });
        queue.splice(0, queue.length, ...queue.filter((e) => !d.groups.includes(e.group)));
      }
    }
    expect(queue.length).toBe(0);
    expect(mails[0]).toEqual({ time: T0 + 30 * S, n: 5 });
    expect(mails[1]).toEqual({ time: T0 + 930 * S, n: 1 });
    // flood of 200 urgent events over 100 s: first at once, then at most one a minute
    const urgent = mails.slice(2);
    expect(urgent.length).toBe(3);
    expect(urgent[0]).toEqual({ time: T0 + 2000 * S, n: 1 });
    expect(urgent[1].time - urgent[0].time).toBe(URGENT_INTERVAL);
    expect(urgent[2].time - urgent[1].time).toBe(URGENT_INTERVAL);
    expect(urgent.reduce((s, m) => s + m.n, 0)).toBe(200);
  });
});

describe("violations (failed logins, sudo failures)", () => {
  test("the first after a quiet spell waits only for logreporttime, not for the hold-off of other log mail", () => {
    const pending = { violation: { count: 1, first: T0 } };
    const lastMail = { log: T0 - 10 * S }; // a System Events mail went out 10 s ago
    expect(decide(input({ now: T0, pending, lastMail }))).toMatchObject(wait(T0 + 10 * S)); // logreporttime 10
    expect(decide(input({ now: T0 + 10 * S, pending, lastMail }))).toMatchObject(send(["violation"]));
  });
  test("while they keep coming, their own hold-off caps the mails", () => {
    const pending = { violation: { count: 1, first: T0 } };
    expect(decide(input({ now: T0 + 10 * S, pending, lastMail: { violation: T0 - 60 * S } }))).toMatchObject(wait(T0 - 60 * S + 300 * S));
  });
});

test("a group whose pooling ends within a few seconds rides along: two news a moment apart make one mail", () => {
  // file events queued 0.1 s after a log event; both pools are 10 s/30 s long
  const cfg = { reporttime: 10, reportholdoff: 900, logreporttime: 10, logreportholdoff: 900 };
  const pending = { log: { count: 1, first: T0 }, file: { count: 1, first: T0 + 100 } };
  expect(decide({ now: T0 + 10 * S, pending, lastMail: {}, failures: { count: 0 }, config: cfg })).toMatchObject(send(["file", "log"]));
  // one still well inside its pooling window stays out
  const later = { log: { count: 1, first: T0 }, file: { count: 1, first: T0 + 8 * S } };
  expect(decide({ now: T0 + 10 * S, pending: later, lastMail: {}, failures: { count: 0 }, config: cfg })).toMatchObject(send(["log"]));
});
