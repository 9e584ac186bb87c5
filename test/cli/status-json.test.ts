// `--status --json` is read by monitoring: every field name, at every level,
// is pinned here (a rename or a removal must be a deliberate change of this
// list, and of the README's promise), on a database where every part has rows
// so that the nested objects of the logs, journals, processes and hints lists
// are there too.
// Read through the real binary.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setMeta } from "../../src/db/db.ts";
import { enqueue } from "../../src/db/events.ts";
import { run, writeConfig } from "../support/binary.ts";
import { insertEntries } from "../support/scan-rows.ts";
import { tempDb, tempDir } from "../report/helpers.ts";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const FIELDS = {
  "": ["time", "database", "daemon", "mail", "events", "files", "logs", "journals", "processes", "hints", "chain"],
  daemon: ["running", "pid", "since", "lastStop"],
  mail: ["on", "to", "via", "lastSent", "lastSentEvents", "lastError", "lastErrorTime", "failedSinceSuccess"],
  events: ["waiting", "file", "log", "process", "oldestWaiting", "behind"],
  files: ["entries", "cycle", "checkedShare", "oldestCheckAgeSeconds", "speed", "lastCycleSeconds", "expectedCycleSeconds"],
  "logs[]": ["path", "offset", "size", "missing", "updated", "lagBytes"],
  "processes[]": ["pidfile", "pid", "name", "state", "since", "detail"],
  "journals[]": ["source", "cursor", "at", "entries", "problem", "updated", "lagEntries", "lagSeconds"],
  "hints[]": ["area", "backend", "state", "reason"],
  chain: ["state", "keyFile", "keyEpoch", "problem", "entries", "headEpoch", "headTime", "lastSeal", "lastMailReport", "lastMailTime"],
};

test("every field name of --status --json, at every level", () => {
  const dir = join(tmp.dir, "s");
  mkdirSync(dir);
  const db = tempDb(dir);
  const now = Date.now();
  insertEntries(db, now);
  setMeta(db, "scan.cycle", 4);
  writeFileSync(join(dir, "auth.log"), "x\n");
  db.query("INSERT INTO logs (path, offset, size, missing, updated) VALUES (?, 1, 2, 0, ?)").run(join(dir, "auth.log"), now);
  db.query("INSERT INTO pids (pidfile, root, pidct, filepid, pid, name, state, since, checked, detail) VALUES ('/run/a.pid', '/run/a.pid', 100, 1, 1, 'a', 'ok', 0, 0, '')").run();
  enqueue(db, { channel: "file", kind: "new", subject: "/a", text: "x" });
  db.query("INSERT INTO mails (time, events, ok, error) VALUES (?, 1, 1, '')").run(now);
  db.query("INSERT INTO journals (source, cursor, realtime, entries, problem, updated) VALUES ('local', 's=1;i=2', 1, 2, '', ?)").run(now);
  db.query("INSERT INTO hints (area, backend, state, reason, updated) VALUES ('/etc', 'inotify', 'degraded', 'watch budget', ?)").run(now);
  db.close();
  const conf = writeConfig(dir, `database = ${join(dir, "db.sqlite")}\njsonlog = ${join(dir, "events.json")}\n`);
  const r = run(["--config", conf, "--status", "--json"]);
  expect(r.code).toBe(0);
  const s = JSON.parse(r.stdout);
  const keys = (o: unknown) => Object.keys(o as object);
  expect(keys(s)).toEqual(FIELDS[""]);
  for (const k of ["daemon", "mail", "events", "files"] as const) expect(keys(s[k])).toEqual(FIELDS[k]);
  expect(keys(s.events.behind)).toEqual(["jsonlog"]);
  expect(s.logs.length).toBe(1);
  expect(keys(s.logs[0])).toEqual(FIELDS["logs[]"]);
  expect(s.processes.length).toBe(1);
  expect(keys(s.processes[0])).toEqual(FIELDS["processes[]"]);
  expect(s.journals.length).toBe(1);
  expect(keys(s.journals[0])).toEqual(FIELDS["journals[]"]);
  expect(s.hints.length).toBe(1);
  expect(keys(s.hints[0])).toEqual(FIELDS["hints[]"]);
  expect(keys(s.chain)).toEqual(FIELDS.chain);
});
