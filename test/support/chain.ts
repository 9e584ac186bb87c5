// A chained database for the chain's tests: a fresh database with its first
// key made (src/chain/open.ts initChain) and taken up as the daemon does; the
// verifier run in-process on it; mails written as an mbox file.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { closeChain, initChain, openChain } from "../../src/chain/open.ts";
import { runVerifyChain } from "../../src/chain/verifycli.ts";
import { tempDatabase, type TempDatabase } from "./db.ts";

export interface ChainedDatabase extends TempDatabase {
  keyPath: string;
  /** the first key as printed */
  firstKey: string;
}

export function chainedDatabase(now = Date.now()): ChainedDatabase {
  const t = tempDatabase("integrityd-chain-");
  const keyPath = join(t.dir, "db.sqlite.chainkey");
  const r = initChain(t.db, keyPath, now);
  if (!r.created) throw new Error(`initChain: ${r.note}`);
  const st = openChain(t.db, keyPath, "test", now);
  if (!st.on) throw new Error(`openChain: ${st.reason}`);
  return {
    ...t, keyPath, firstKey: r.key,
    cleanup() {
      closeChain(t.db);
      t.cleanup();
    },
  };
}

export interface Verdict {
  code: number;
  out: string;
  /** the "first bad entry" the verifier named, null when none */
  first: number | null;
}

export function verify(database: string, key: string, opts: { mails?: string; now?: number } = {}): Verdict {
  let out = "";
  const code = runVerifyChain({ key, database, mails: opts.mails, now: opts.now, out: (s) => (out += s) });
  const m = /^first bad entry: (\d+)$/m.exec(out);
  return { code, out, first: m ? Number(m[1]) : null };
}

/** Write messages (raw header block + body) as an mbox file; returns its path. */
export function writeMbox(dir: string, messages: { headers: string; body: string }[], name = "mails.mbox"): string {
  const p = join(dir, name);
  const text = messages.map((m) => `From integrityd@test Thu Jan  1 00:00:00 2026\n${m.headers.replace(/\r\n/g, "\n")}\n\n${m.body.replace(/^From /gm, ">From ")}\n`).join("\n");
  writeFileSync(p, text, { mode: 0o600 });
  return p;
}
