// The report task: turns the durable event queue into mails and sink lines.
//
// Every output has its own pump (pump.ts), run on onQueued(), on its own timer
// (the time it asked for, a retry time, at most WAKE_MAX later) and on reload,
// so that a slow or hung output delays only itself:
//   1. each sink (jsonlog, syslog, stdout): write every event after its cursor;
//      on failure log it and retry with backoff (policy.retryDelay);
//   2. retention (prune.ts), hourly;
//   3. mail: summarise the pending rows, ask the policy (policy.ts), and when it
//      says send: select the events (urgent first, at most MAX_EVENTS_PER_MAIL), format,
//      deliver, and only after the server accepted the message mark the rows
//      (events.mailed) in ONE transaction with the `mails` row and the per-group
//      last-mail times (meta mail.last.file|log|urgent, read by the policy's
//      hold-off and urgent cap). A failed attempt is logged on stderr and as a
//      `mails` row (ok = 0) and retried after 30 s, doubling to 30 min.
//
// Delivery guarantee: at-least-once. An event is never marked before the
// server accepted the mail holding it, so nothing is lost by a crash, an SMTP
// outage or a restart. The one window for a duplicate: the process dies (or the
// database refuses the write) after the server accepted the mail and before the
// marking transaction committed; the next run sends those events again (once;
// the same holds for sink lines written before their cursor was saved).
//
// Retry state lives in memory: a restart or a SIGHUP retries at once (the
// admin just acted); the `mails` table keeps every attempt for --status.
//
// Mail off (email = none): rows stay unmarked (mailed NULL) and are counted
// as "not mailed" by --status; enabling mail later sends them (those younger
// than the retention: finished events are pruned after 30 days, see prune.ts).
import type { Database } from "bun:sqlite";
import type { Config } from "../config/config.ts";
import type { Task, TaskContext } from "../task.ts";
import { yieldToLoop } from "../util/loop.ts";
import { getMeta, setMeta } from "../db/db.ts";
import { EVENT_RETENTION_MS, onQueued, pendingCount } from "../db/events.ts";
import { log } from "../util/log.ts";
import { VERSION } from "../version.ts";
import { type Coverage, formatReport, LINE_LIMIT } from "./format.ts";
import { createMailer, localHost, type Mailer, mailSettingsKey, oneLine } from "./mail.ts";
import { type Decision, decide, type Group, type PolicyInput, retryDelay } from "./policy.ts";
import { MAIL_LOG_RETENTION_MS, PRUNE_CHUNK, PRUNE_EVERY_MS, pruneChunk } from "./prune.ts";
import { createPump, type Pump } from "./pump.ts";
import { markMailed, selectForMail } from "./select.ts";
import { jsonlogSink, type Sink, stdoutSink, syslogSink } from "./sinks.ts";
import { heartbeatDue } from "../chain/core.ts";
import { chainMailed, chainStamp, heartbeatMail, stampFooter, stampHeaders } from "../chain/stamp.ts";

/** At most this many events are shown in one mail; above it the mail is a flood summary (select.ts). */
export const MAX_EVENTS_PER_MAIL = 5000;
/** Longest sleep: the queue is looked at least this often (events queued by other processes). */
export const WAKE_MAX = 60_000;

export interface ReportOptions {
  /** host name for subjects, the sender and the JSON log (default: os.hostname()) */
  host?: string;
  /** the scanner's figures for the mail footer (the daemon passes scan/status.ts's scanCoverage) */
  coverage?: () => Coverage | undefined;
  /** syslog socket (default /dev/log) and logger program, for tests */
  syslogSocket?: string;
  logger?: string;
  lineLimit?: number;
  maxEvents?: number;
  /** first retry delay after a failed delivery (ms), default 30 s */
  retryFirst?: number;
  /** in a flood summary, events shown first and last per report group (default FLOOD_SHOW) */
  floodShow?: number;
  /** also print every event queued from now on to standard output (--stdout) */
  stdout?: boolean;
}

export interface ReportTask extends Task {
  /** Run the pump now (also what onQueued does). Resolves when this run is over. */
  kick(): Promise<void>;
  /**
   * The daemon is stopping: write what is pending to every output now, mail
   * included whatever the pooling and hold-off say, within `ms`. Resolves
   * true when nothing is left pending.
   */
  flush(ms: number): Promise<boolean>;
}

export const LAST_MAIL_KEY: Record<Group, string> = { file: "mail.last.file", log: "mail.last.log", violation: "mail.last.violation", urgent: "mail.last.urgent" };

function readLastMail(db: Database): PolicyInput["lastMail"] {
  const out: PolicyInput["lastMail"] = {};
  for (const g of Object.keys(LAST_MAIL_KEY) as Group[]) {
    const v = Number(getMeta(db, LAST_MAIL_KEY[g]));
    if (Number.isFinite(v) && v > 0) out[g] = v;
  }
  return out;
}

/**
 * Pending rows per policy group, as the policy needs them: whether there are
 * any (count 1, not the number: counting a backlog of a long outage cost
 * 150 ms a wake at 300,000 rows) and the time of the oldest (by queue order).
 * Index lookups only, whatever the backlog.
 */
export function pendingSummary(db: Database): PolicyInput["pending"] {
  const oldest = (sql: string): number | undefined => (db.query(sql).get() as { time: number } | null)?.time;
  const out: PolicyInput["pending"] = {};
  const urgent = oldest("SELECT time FROM events WHERE mailed IS NULL AND urgent = 1 ORDER BY id LIMIT 1");
  const file = oldest("SELECT time FROM events WHERE mailed IS NULL AND channel = 'file' AND urgent = 0 ORDER BY id LIMIT 1");
  const violation = oldest("SELECT time FROM events WHERE mailed IS NULL AND channel = 'log' AND urgent = 0 AND kind = 'violation' ORDER BY id LIMIT 1");
  const logs = [
    oldest("SELECT time FROM events WHERE mailed IS NULL AND channel = 'log' AND urgent = 0 AND kind <> 'violation' ORDER BY id LIMIT 1"),
    oldest("SELECT time FROM events WHERE mailed IS NULL AND channel = 'pid' AND urgent = 0 ORDER BY id LIMIT 1"),
  ].filter((t): t is number => t !== undefined);
  if (urgent !== undefined) out.urgent = { count: 1, first: urgent };
  if (file !== undefined) out.file = { count: 1, first: file };
  if (violation !== undefined) out.violation = { count: 1, first: violation };
  if (logs.length > 0) out.log = { count: 1, first: Math.min(...logs) };
  return out;
}

export function createReportTask(ctx: TaskContext, opts: ReportOptions = {}): ReportTask {
  const db = ctx.db;
  let config: Config = ctx.config;
  const host = opts.host ?? localHost();
  const maxEvents = opts.maxEvents ?? MAX_EVENTS_PER_MAIL;
  const coverage = opts.coverage ?? (() => undefined);

  let mailer: Mailer | null = null;
  let mailKey = "";
  const failures = { count: 0, last: undefined as number | undefined };

  interface SinkState {
    sink: Sink;
    key: string;
    fails: number;
    retryAt: number;
    pump: Pump;
  }
  const sinks = new Map<string, SinkState>();
  let stopped = false;
  let nextMailAt = Infinity;

  const setupMail = () => {
    const key = mailSettingsKey(config);
    if (key === mailKey) return;
    mailer?.close();
    mailer = createMailer(config, { host });
    mailKey = key;
    failures.count = 0;
    failures.last = undefined;
  };

  /** One sink's pump: write what is after its cursor; on failure back off (retryDelay). */
  const sinkPump = (name: string, st: Omit<SinkState, "pump">): Pump =>
    createPump(name, async () => {
      if (Date.now() < st.retryAt) return st.retryAt;
      try {
        await st.sink.drain(db);
        if (st.fails > 0) log.notice(`${name}: writing again`);
        st.fails = 0;
        st.retryAt = 0;
        return Infinity;
      } catch (e) {
        st.fails++;
        const delay = retryDelay(st.fails, opts.retryFirst);
        st.retryAt = Date.now() + delay;
        log.error(`${oneLine((e as Error).message)}; retrying in ${Math.round(delay / 1000)} s`);
        return st.retryAt;
      }
    }, { wakeMax: WAKE_MAX, onError: () => Date.now() + 30_000 });

  const setupSinks = () => {
    const want = new Map<string, [string, () => Sink]>();
    if (config.jsonlog !== "") want.set("jsonlog", [config.jsonlog, () => jsonlogSink(config.jsonlog, host)]);
    if (config.syslog) {
      const socket = opts.syslogSocket ?? config.syslogsocket;
      want.set("syslog", [`${config.syslogfacility} ${config.syslogformat} ${socket}`, () => syslogSink({ facility: config.syslogfacility, socket, logger: opts.logger, format: config.syslogformat, host })]);
    }
    if (opts.stdout) want.set("stdout", ["", () => stdoutSink(db)]);
    for (const [name, st] of sinks) {
      if (want.get(name)?.[0] !== st.key) {
        void st.pump.stop(0).then(() => st.sink.close());
        sinks.delete(name);
      }
    }
    for (const [name, [key, make]] of want) {
      if (sinks.has(name)) continue;
      const st = { sink: make(), key, fails: 0, retryAt: 0 } as SinkState;
      st.pump = sinkPump(name, st);
      sinks.set(name, st);
    }
  };

  setupMail();
  setupSinks();

  const recordFailure = (error: string, n: number) => {
    if (stopped) return; // a late answer after stop: the database may be closed; the next start retries
    failures.count++;
    failures.last = Date.now();
    const delay = retryDelay(failures.count, opts.retryFirst);
    log.error(`mail: delivery of ${n} event${n === 1 ? "" : "s"} failed (attempt ${failures.count}): ${error}; retrying in ${Math.round(delay / 1000)} s`);
    try {
      db.query("INSERT INTO mails (time, events, ok, error) VALUES (?, ?, 0, ?)").run(failures.last, n, error);
    } catch (e) {
      log.error(`mail: cannot record the failed attempt: ${oneLine((e as Error).message)}`);
    }
  };

  /** false: nothing was selected (should not happen; the caller backs off instead of spinning) */
  const deliver = async (m: Mailer, d: Extract<Decision, { action: "send" }>): Promise<boolean> => {
    const sel = await selectForMail(db, d.groups, maxEvents, opts.floodShow);
    if (sel.total === 0) return false;
    let cov: Coverage | undefined;
    try {
      cov = { ...coverage(), waiting: Math.max(0, pendingCount(db) - sel.total) };
    } catch {
      cov = undefined;
    }
    const report = formatReport({ host, version: VERSION, now: Date.now(), events: sel.events, coverage: cov, lineLimit: opts.lineLimit ?? LINE_LIMIT });
    const stamp = chainStamp(db, "report", config.heartbeat); // src/chain: the chain head goes with every mail
    const res = await m.send({ subject: report.subject, text: stamp ? report.text + stampFooter(stamp) : report.text, headers: stampHeaders(stamp) });
    if (!res.ok) {
      recordFailure(res.error, sel.total);
      return true;
    }
    const at = Date.now();
    const note = res.rejected.length > 0 ? `accepted; refused recipients: ${oneLine(res.rejected.join(", "))}` : "";
    try {
      // every group of the decision is in this mail (its pending events, all of them)
      await markMailed(db, d.groups, sel.maxId, at, () => {
        db.query("INSERT INTO mails (time, events, ok, error) VALUES (?, ?, 1, ?)").run(at, sel.total, note);
        for (const g of d.groups) setMeta(db, LAST_MAIL_KEY[g], at);
        chainMailed(db, stamp, at);
      });
    } catch (e) {
      // accepted but not recorded: these events will be sent again (at-least-once)
      recordFailure(`the server accepted the mail but the database refused to record it (${oneLine((e as Error).message)}); it will be sent again`, sel.total);
      return true;
    }
    failures.count = 0;
    failures.last = undefined;
    if (note) log.warn(`mail: ${note}`);
    log.info(`mail: sent ${sel.total} event${sel.total === 1 ? "" : "s"}${sel.flood ? ` (a flood: ${sel.events.length} shown)` : ""} via ${m.describe}`);
    return true;
  };

  // the heartbeat (src/chain): a mail when none went out for `heartbeat` seconds
  const startedAt = Date.now();
  const lastMailAt = (): number => (db.query("SELECT max(time) AS t FROM mails WHERE ok = 1").get() as { t: number | null }).t ?? startedAt;
  const retryAt = (): number => (failures.last !== undefined ? failures.last + retryDelay(failures.count, opts.retryFirst) : 0);
  const heartbeatAt = (): number => (config.heartbeat > 0 ? Math.max(lastMailAt() + config.heartbeat * 1000, retryAt()) : Infinity);
  const heartbeat = async (m: Mailer): Promise<void> => {
    const now = Date.now();
    const last = lastMailAt();
    if (!heartbeatDue(last, config.heartbeat * 1000, now) || now < retryAt()) return;
    const stamp = chainStamp(db, "heartbeat", config.heartbeat, now);
    const res = await m.send({ ...heartbeatMail(host, stamp, now - last), headers: stampHeaders(stamp) });
    if (!res.ok) return recordFailure(res.error, 0);
    const at = Date.now();
    db.transaction(() => {
      db.query("INSERT INTO mails (time, events, ok, error) VALUES (?, 0, 1, 'heartbeat')").run(at);
      chainMailed(db, stamp, at);
    }).immediate();
    failures.count = 0;
    failures.last = undefined;
    log.info(`mail: heartbeat sent via ${m.describe}`);
  };

  const runMail = async () => {
    nextMailAt = Infinity;
    // a few rounds: a send can make another group due (e.g. urgent cap passed meanwhile)
    for (let round = 0; round < 4 && !stopped; round++) {
      const m = mailer;
      if (!m) return;
      const d = decide({ now: Date.now(), pending: pendingSummary(db), lastMail: readLastMail(db), failures: { ...failures }, config, retryFirst: opts.retryFirst });
      if (d.action === "idle" || d.action === "wait") {
        await heartbeat(m);
        nextMailAt = Math.min(d.action === "wait" ? d.at : Infinity, heartbeatAt());
        return;
      }
      if (!(await deliver(m, d))) {
        nextMailAt = Date.now() + 1000;
        return;
      }
    }
    nextMailAt = Date.now(); // more to do: come back soon (after the timer below)
  };

  // retention (prune.ts): once at start, then hourly, a chunk per transaction
  let nextPruneAt = 0;
  const runPrune = async () => {
    const now = Date.now();
    if (now < nextPruneAt) return;
    nextPruneAt = now + PRUNE_EVERY_MS;
    const scope = { mailOn: mailer !== null, sinks: [...sinks.values()].filter((st) => st.sink.durable).map((st) => st.sink.name) };
    let total = 0;
    for (;;) {
      const n = pruneChunk(db, now, scope);
      total += n;
      if (n < PRUNE_CHUNK || stopped) break;
      await yieldToLoop();
    }
    if (total > 0) {
      const days = (ms: number) => Math.round(ms / 86_400_000);
      log.info(`report: pruned ${total} row${total === 1 ? "" : "s"} (finished events after ${days(EVENT_RETENTION_MS)} days, mail log after ${days(MAIL_LOG_RETENTION_MS)})`);
    }
  };

  // mail and retention: each its own pump too (a hung SMTP session holds nothing else)
  const mailPump = createPump("mail", async () => {
    await runMail();
    return nextMailAt;
  }, {
    wakeMax: WAKE_MAX,
    onError(e) {
      // database trouble: keep the daemon running, try again later
      log.error(`report: ${oneLine((e as Error).message)}`);
      return Date.now() + 30_000;
    },
  });
  const prunePump = createPump("prune", async () => {
    await runPrune();
    return nextPruneAt;
  }, { wakeMax: PRUNE_EVERY_MS, onError: (e) => (log.error(`report: prune: ${oneLine((e as Error).message)}`), Date.now() + PRUNE_EVERY_MS) });

  const pumps = () => [...[...sinks.values()].map((st) => st.pump), mailPump, prunePump];
  const kick = async (): Promise<void> => {
    if (stopped) return;
    await Promise.all(pumps().map((p) => p.kick()));
  };

  const unsubscribe = onQueued(() => {
    for (const st of sinks.values()) void st.pump.kick();
    void mailPump.kick();
  });
  void kick();

  const ALL: Group[] = ["urgent", "violation", "file", "log"];
  const flush = async (ms: number): Promise<boolean> => {
    const work = (async () => {
      await Promise.all([...sinks.values()].map((st) => st.pump.kick()));
      await mailPump.stop(ms); // no timer runs meanwhile; the current run finishes or is left
      const m = mailer;
      if (m && Object.keys(pendingSummary(db)).length > 0) await deliver(m, { action: "send", groups: ALL, reason: "stopping" });
      return Object.keys(pendingSummary(db)).length === 0 || !m;
    })();
    let t: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<boolean>((r) => (t = setTimeout(() => r(false), ms)));
    try {
      return await Promise.race([work, timeout]);
    } finally {
      if (t) clearTimeout(t);
    }
  };

  return {
    name: "report",
    kick,
    flush,
    reload(c: Config) {
      config = c;
      setupMail();
      setupSinks();
      for (const st of sinks.values()) {
        st.fails = 0;
        st.retryAt = 0;
      }
      // SIGHUP retries a failed delivery at once (the admin just acted)
      failures.count = 0;
      failures.last = undefined;
      void kick();
    },
    async stop() {
      stopped = true;
      unsubscribe();
      // let an accepted mail be recorded; do not hold the daemon's 5 s limit
      await Promise.all(pumps().map((p) => p.stop(4000)));
      mailer?.close();
      for (const st of sinks.values()) st.sink.close();
    },
  };
}
