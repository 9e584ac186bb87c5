/**
 * Process watch: PID files, dead, zombie and restarted processes.
 *
 * Every `pidchecktime` seconds each configured `pidfile` (a file, or a
 * directory whose `*.pid` files are all watched, recursively) is read without
 * following a symbolic link, and the process it names is looked up in
 * /proc/PID/stat. A process is identified by (host PID, start time, boot id), so
 * the same PID with another start time is a restart (PID reuse), not "still
 * alive". Reports go to the `pid` channel of the report queue, once per change
 * of state: died, zombie, restarted, created, removed, recovered, error. The
 * state lives in the database, so changes that happened while integrityd was
 * down are reported on the next start; a pidfile path seen for the first time
 * (first start, or newly configured) is only recorded (baseline).
 *
 * PID namespaces and `pidct`:
 * - `pidct = 100` (the default) means the host: PIDs in the PID files are PIDs
 *   of integrityd's own PID namespace.
 * - Any other `pidct = N` means the PID files (of the `pidfile` lines after it)
 *   belong to a container, and N is the HOST PID of any process inside that
 *   container, usually its init (`docker inspect -f '{{.State.Pid}}' NAME`,
 *   `lxc-info -pHn NAME`, `machinectl show -p Leader NAME`). The container's PID
 *   namespace is the one of /proc/N/ns/pid; a PID P from a PID file is mapped to
 *   the host process X in that same namespace whose `NSpid:` line in
 *   /proc/X/status ends in P. Point `pidfile` at the container's PID files as
 *   seen from the host (e.g. /var/lib/lxc/NAME/rootfs/run, or the
 *   container's /run via /proc/N/root/run). If process N no longer exists (the
 *   container stopped, or it restarted under another PID) every PID file of
 *   that pidct gets one error report until pidct is updated.
 * - On OpenVZ kernels (whose /proc/self/status has an `envID:` line), N is the
 *   container ID (CTID) instead, and P is mapped to the host process whose
 *   status shows `envID: N` and `VPid: P`.
 * Only the container's own namespace is searched: processes of namespaces nested
 * inside it are not matched. Changing a file's pidct re-records it silently.
 *
 * PID files: a configured `pidfile` path is followed if it is a symbolic link
 * to a directory (the admin named it), but a PID file itself that is a symbolic
 * link is reported, never read (O_NOFOLLOW); so are FIFOs and other non-files,
 * files over 4096 bytes, empty, non-numeric, negative and out-of-range (0,
 * > 4194304) contents. Empty or garbage contents are read once more after
 * RETRY_MS, in case the daemon was caught rewriting its file. A PID that
 * names a thread (Tgid differs) counts as no process.
 */
import type { Database } from "bun:sqlite";
import type { Config, PidSpec } from "../config/config.ts";
import type { Task, TaskContext } from "../task.ts";
import { sleepMs, yieldToLoop } from "../util/loop.ts";
import { enqueue } from "../db/events.ts";
import { log } from "../util/log.ts";
import {
  CLOCK_TICKS, PidMapper, ProcFs, isDirectory, readPidFile, scanPidDir, showPath, toBytesString,
} from "./proc.ts";
import { type Observation, type PidState, type Status, step } from "./state.ts";

export { ProcFs } from "./proc.ts";


/** Delay before reading an unusable PID file or a vanished PID again (writers race with us). */
export const RETRY_MS = 100;

interface Row {
  pidfile: string; root: string; pidct: number; state: string; filepid: number | null; pid: number | null;
  hostpid: number | null; start: number | null; started: number | null; boot: string | null; name: string | null;
  seen: number | null; reason: string; detail: string; since: number; checked: number;
}

function rowToState(r: Row): PidState {
  return {
    status: r.state as Status, filepid: r.filepid, pid: r.pid, hostpid: r.hostpid, start: r.start, started: r.started,
    boot: r.boot, name: r.name, seen: r.seen, reason: r.reason, detail: r.detail, since: r.since, checked: r.checked,
  };
}

/** Observe one PID file now (a vanished PID is checked against a re-read of the file). */
async function observe(path: string, pidct: number, proc: ProcFs, mapper: PidMapper, btime: number, boot: string): Promise<Observation> {
  for (let attempt = 0; ; attempt++) {
    const f = readPidFile(path);
    if (f.kind !== "pid") return f;
    const m = await mapper.map(pidct, f.pid);
    if ("error" in m) return { kind: "bad", reason: "namespace", detail: m.error, pid: f.pid };
    let st = "hostpid" in m ? proc.stat(m.hostpid) : null;
    // /proc/TID/stat of a thread is readable too, but a thread is not a process
    if (st && "hostpid" in m) {
      const tgid = proc.status(m.hostpid)?.tgid;
      if (tgid != null && tgid !== m.hostpid) st = null;
    }
    if (!st || st.state === "X") {
      // the file may just have been rewritten by a restarting daemon
      if (attempt === 0) {
        const again = readPidFile(path);
        if (again.kind !== "pid" || again.pid !== f.pid) continue;
      }
      return { kind: "gone", pid: f.pid };
    }
    const hostpid = (m as { hostpid: number }).hostpid;
    return {
      kind: "alive",
      proc: {
        pid: f.pid, hostpid, start: st.start, started: btime * 1000 + Math.round((st.start * 1000) / CLOCK_TICKS),
        boot, name: st.name, state: st.state,
      },
    };
  }
}

/** An empty or garbage PID file may be caught mid-rewrite: such files are read once more after RETRY_MS. */
const mayBeMidWrite = (o: Observation) => o.kind === "bad" && (o.reason === "empty" || o.reason === "garbage");

export interface CheckResult {
  files: number;
  events: number;
}

/**
 * One check cycle over `specs` (a config's pidfiles). Reads happen first (with
 * yields); the state updates and their events are then stored in one
 * transaction.
 */
export async function checkPids(db: Database, specs: PidSpec[], proc = new ProcFs(), now = () => Date.now()): Promise<CheckResult> {
  // first spec wins for a path; paths are byte strings
  const roots = new Map<string, number>();
  for (const s of specs) {
    const r = toBytesString(s.path);
    if (!roots.has(r)) roots.set(r, s.pidct);
  }
  const knownRoots = new Map<string, number>();
  for (const r of db.query("SELECT root, pidct FROM pid_roots").all() as { root: string; pidct: number }[]) knownRoots.set(r.root, r.pidct);

  // which files belong to which root
  const files = new Map<string, { root: string; pidct: number }>();
  const dirRoots = new Set<string>();
  for (const [root, pidct] of roots) {
    const stored = (db.query("SELECT pidfile FROM pids WHERE root = ?").all(root) as { pidfile: string }[]).map((r) => r.pidfile);
    let found: string[];
    if (isDirectory(root)) {
      dirRoots.add(root);
      const scan = await scanPidDir(root);
      if (scan.truncated) log.warn(`pidfile ${showPath(root)}: too many PID files or too deep; watching the first ${scan.files.length}`);
      found = scan.files;
    } else {
      found = [root];
    }
    for (const f of [...found, ...stored]) {
      if (f === root && dirRoots.has(root)) continue;
      if (!files.has(f)) files.set(f, { root, pidct });
    }
  }

  const mapper = new PidMapper(proc);
  const btime = proc.bootTime();
  const boot = proc.bootId();
  const observed: { path: string; root: string; pidct: number; obs: Observation; time: number }[] = [];
  const look = async (path: string, pidct: number): Promise<Observation> => {
    try {
      return await observe(path, pidct, proc, mapper, btime, boot);
    } catch (e) {
      return { kind: "bad", reason: "unreadable", detail: `cannot check: ${(e as Error).message}` };
    }
  };
  let i = 0;
  for (const [path, { root, pidct }] of files) {
    if (++i % 32 === 0) await yieldToLoop();
    observed.push({ path, root, pidct, obs: await look(path, pidct), time: now() });
  }
  if (observed.some((o) => mayBeMidWrite(o.obs))) {
    await sleepMs(RETRY_MS);
    for (const o of observed) {
      if (!mayBeMidWrite(o.obs)) continue;
      o.obs = await look(o.path, o.pidct);
      o.time = now();
    }
  }

  let events = 0;
  const getRow = db.query("SELECT * FROM pids WHERE pidfile = ?");
  const put = db.query(`INSERT OR REPLACE INTO pids (pidfile, root, pidct, state, filepid, pid, hostpid, start, started, boot, name, seen, reason, detail, since, checked)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  db.transaction(() => {
    for (const o of observed) {
      const row = getRow.get(o.path) as Row | null;
      const newRoot = !knownRoots.has(o.root) || knownRoots.get(o.root) !== o.pidct;
      const prev = row && row.pidct === o.pidct && !newRoot ? rowToState(row) : null;
      const subject = showPath(o.path);
      const { next: n, events: evs } = step(subject, prev, o.obs, o.time, newRoot || (row !== null && prev === null));
      put.run(o.path, o.root, o.pidct, n.status, n.filepid, n.pid, n.hostpid, n.start, n.started, n.boot, n.name, n.seen, n.reason, n.detail, n.since, n.checked);
      for (const e of evs) {
        enqueue(db, { channel: "pid", kind: e.kind, subject, text: e.text, urgent: e.urgent, details: e.details, time: o.time });
        events++;
      }
    }
    const t = now();
    for (const [root, pidct] of roots) {
      if (knownRoots.get(root) !== pidct) db.query("INSERT OR REPLACE INTO pid_roots (root, pidct, added) VALUES (?, ?, ?)").run(root, pidct, t);
    }
    // forget what is no longer configured
    for (const root of knownRoots.keys()) {
      if (!roots.has(root)) db.query("DELETE FROM pid_roots WHERE root = ?").run(root);
    }
    for (const r of db.query("SELECT DISTINCT root FROM pids").all() as { root: string }[]) {
      if (!roots.has(r.root)) db.query("DELETE FROM pids WHERE root = ?").run(r.root);
    }
    for (const root of dirRoots) db.query("DELETE FROM pids WHERE pidfile = ? AND root = ?").run(root, root);
    // a file claimed by an earlier spec now
    for (const [path, { root }] of files) db.query("DELETE FROM pids WHERE pidfile = ? AND root <> ?").run(path, root);
  }).immediate();
  return { files: files.size, events };
}

/** The daemon task: checks every `pidchecktime` seconds; reload() applies new pidfile lists. */
export function createPidTask(ctx: TaskContext, proc = new ProcFs()): Task {
  let config: Config = ctx.config;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;

  const schedule = (ms: number) => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(run, ms);
  };
  const run = () => {
    timer = null;
    if (stopped) return;
    if (running) { again = true; return; }
    running = (async () => {
      try {
        await checkPids(ctx.db, config.pidfiles, proc);
      } catch (e) {
        log.error(`pid watch: check failed: ${(e as Error).message}`);
      }
    })().finally(() => {
      running = null;
      if (again) { again = false; schedule(0); } else schedule(config.pidchecktime * 1000);
    });
  };
  schedule(0);

  return {
    name: "pids",
    reload(c: Config) {
      config = c;
      if (running) again = true;
      else schedule(0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      if (running) await running;
    },
  };
}
