// Exactly once, end to end: the compiled binary follows a journal directory
// and is killed with SIGKILL at random points, again and again, while another
// writer appends entries to the journal file with systemd-journal-remote in
// bursts of random size (many in the same second). Afterwards every entry has
// been queued exactly once, in order, and no discontinuity was reported.
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { run, tempDir, writeConfig } from "../../support/binary.ts";
import { DaemonProc } from "../../support/daemon.ts";
import { entry, exportBytes, JOURNAL_REMOTE, journalToolsMissing, nudge } from "../../support/journal.ts";
import { writeRules } from "../helpers.ts";

const why = journalToolsMissing();
const { dir, cleanup } = tempDir("integrityd-journal-crash-");
afterAll(cleanup);

const COUNT = 1500;

function lineNumbers(dbPath: string): { lines: number[]; notices: string[] } {
  const db = new Database(dbPath, { readonly: true });
  try {
    const rows = db.query("SELECT kind, subject, text FROM events WHERE channel = 'log' ORDER BY id").all() as { kind: string; subject: string; text: string }[];
    return {
      lines: rows.filter((r) => r.kind === "system").map((r) => Number(/: entry (\d+) /.exec(r.text)?.[1])),
      notices: rows.filter((r) => r.kind === "notice" && r.subject.startsWith("journal ")).map((r) => r.text), // not the daemon's unclean-start notices
    };
  } finally {
    db.close();
  }
}

test("kill -9 at random points while entries are appended: 0 lost, 0 repeated, in order", async () => {
  if (why) return console.log(`skipped: ${why}`);
  const jdir = join(dir, "journal");
  mkdirSync(jdir);
  chmodSync(jdir, 0o700);
  const file = join(jdir, "system.journal");
  const rules = join(dir, "rules");
  writeRules(rules, { "ignore.d.server/a": "^never matches$\n" });
  const dbPath = join(dir, "db.sqlite");
  const conf = writeConfig(dir, [`email = none`, `database = ${dbPath}`, `logrules = server:${rules}`, `journal = directory:${jdir}`].join("\n") + "\n");
  expect(run(["--init-db", "--config", conf]).code).toBe(0);
  const t0 = Date.now() * 1000 - 3_600_000_000; // in the past: journal-remote replaces a file whose last entry lies in the future
  const write = async (from: number, n: number) => {
    const es = Array.from({ length: n }, (_, k) => entry(`entry ${from + k} of the burst`, t0 + Math.floor((from + k) / 100) * 1_000_000));
    const p = Bun.spawn([JOURNAL_REMOTE, `--output=${file}`, "-"], { stdin: exportBytes(es), stdout: "ignore", stderr: "inherit" });
    expect(await p.exited).toBe(0);
    nudge(file);
  };
  await write(-1, 1); // history: the first start begins after it
  let d = new DaemonProc(["--config", conf]);
  await d.waitFor(/first start, following from its end/);
  d.kill("SIGKILL");
  await d.exited;

  let written = 0;
  let writerDone = false;
  const writer = (async () => {
    let seed = 12345;
    while (written < COUNT) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const n = Math.min(COUNT - written, 1 + (seed % 60));
      await write(written, n);
      written += n;
      await Bun.sleep(seed % 20);
    }
    writerDone = true;
  })();
  let kills = 0;
  while (!writerDone) {
    d = new DaemonProc(["--config", conf]);
    await Bun.sleep(150 + Math.floor(Math.random() * 500));
    d.kill("SIGKILL");
    await d.exited;
    kills++;
  }
  await writer;
  d = new DaemonProc(["--config", conf]);
  await d.waitFor(/integrityd started/); // its signal handlers are in place
  const end = Date.now() + 30_000;
  while (lineNumbers(dbPath).lines.length < COUNT && Date.now() < end) await Bun.sleep(100);
  d.kill("SIGTERM");
  expect(await d.exited).toBe(0);
  const { lines, notices } = lineNumbers(dbPath);
  expect(kills).toBeGreaterThan(2);
  expect(lines.length).toBe(COUNT);
  expect(lines).toEqual(Array.from({ length: COUNT }, (_, i) => i));
  expect(notices).toEqual([]); // continuity proven at every restart
  expect(readdirSync(jdir)).toEqual(["system.journal"]); // one file, one sequence: every restart met its own stored entry
}, 120_000);
