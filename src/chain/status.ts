// The chain's own status, for `--status` (read-only; safe while the daemon
// runs): whether the database is chained, its head, the epoch of the key file,
// the last seal and the last mail that carried the head. The key file is
// read for its epoch only; no key byte is shown.
import type { Database } from "bun:sqlite";
import type { Config } from "../config/config.ts";
import { readKeyFile } from "./keyfile.ts";
import { chainKeyPath } from "./open.ts";

export interface ChainStatus {
  /** on: chained and a key file present; off: no chain yet; broken: a chain without a usable key file */
  state: "on" | "off" | "broken";
  keyFile: string;
  keyEpoch: number | null;
  problem: string | null;
  entries: number;
  headEpoch: number | null;
  headTime: number | null;
  lastSeal: number | null;
  lastMailReport: number | null;
  lastMailTime: number | null;
}

export function chainStatus(db: Database, config: Config): ChainStatus {
  const keyFile = chainKeyPath(config);
  const head = db.query("SELECT seq, epoch, time FROM chain ORDER BY seq DESC LIMIT 1").get() as { seq: number; epoch: number; time: number } | null;
  const seal = db.query("SELECT time FROM chain WHERE kind = 'seal' ORDER BY seq DESC LIMIT 1").get() as { time: number } | null;
  const mail = db.query("SELECT time, data FROM chain WHERE kind = 'mail' ORDER BY seq DESC LIMIT 1").get() as { time: number; data: string } | null;
  let keyEpoch: number | null = null;
  let problem: string | null = null;
  try {
    const k = readKeyFile(keyFile);
    if (k) {
      keyEpoch = k.epoch;
      k.key.fill(0);
    } else if (head) problem = `${keyFile}: key file missing`;
  } catch (e) {
    problem = (e as Error).message;
  }
  let report: number | null = null;
  try {
    report = mail ? Number((JSON.parse(mail.data) as { report: number }).report) : null;
  } catch {
    report = null;
  }
  return {
    state: !head ? "off" : problem ? "broken" : "on",
    keyFile, keyEpoch, problem,
    entries: head?.seq ?? 0, headEpoch: head?.epoch ?? null, headTime: head?.time ?? null,
    lastSeal: seal?.time ?? null, lastMailReport: report, lastMailTime: mail?.time ?? null,
  };
}
