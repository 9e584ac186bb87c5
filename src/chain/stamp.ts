// What every mail carries of the chain, and the heartbeat mail.
//
// A mail's stamp: its report number (1, 2, ... over the life of the chain;
// heartbeats count too), the range of chain entries appended since the
// previous mail (from..to), and the head (entry `to`): its epoch and MAC. It
// goes in a header and at the end of the body, both of this one shape:
//   X-Integrityd-Chain: report=12; kind=report; from=341; to=400; epoch=37;
//     mac=<64 hex>; time=<ms>; heartbeat=<s>
// Once the relay accepted the mail, a `mail` entry with the same stamp is
// appended (in the transaction that marks the events mailed), so the next
// mail's range starts after it and the database holds what was sent.
import type { Database } from "bun:sqlite";
import { appendData, attached, chainHead } from "./append.ts";
import { hex } from "./core.ts";

export const CHAIN_HEADER = "X-Integrityd-Chain";

export type MailKind = "report" | "heartbeat";

export interface Stamp {
  report: number;
  kind: MailKind;
  from: number;
  to: number;
  epoch: number;
  mac: string;
  time: number;
  /** the heartbeat period in force (seconds; 0 = none), so the verifier knows what silence means */
  heartbeat: number;
}

/** The stamp for the mail about to go; null when the database is not chained. */
export function chainStamp(db: Database, kind: MailKind, heartbeatSec: number, now = Date.now()): Stamp | null {
  if (!attached(db)) return null;
  const head = chainHead(db);
  if (!head) return null;
  const last = db.query("SELECT data FROM chain WHERE kind = 'mail' ORDER BY seq DESC LIMIT 1").get() as { data: string } | null;
  let prev = { report: 0, to: 0 };
  try {
    if (last) prev = JSON.parse(last.data) as typeof prev;
  } catch {
    // a damaged mail entry: the verifier says so; numbering goes on from the start
  }
  return { report: prev.report + 1, kind, from: prev.to + 1, to: head.seq, epoch: head.epoch, mac: hex(head.mac), time: now, heartbeat: heartbeatSec };
}

export function stampValue(s: Stamp): string {
  return `report=${s.report}; kind=${s.kind}; from=${s.from}; to=${s.to}; epoch=${s.epoch}; mac=${s.mac}; time=${s.time}; heartbeat=${s.heartbeat}`;
}

/** A header value back into a stamp; null when it is not one. */
export function parseStamp(value: string): Stamp | null {
  const f = new Map<string, string>();
  for (const part of value.split(";")) {
    const m = /^\s*([a-z]+)=(\S*)\s*$/.exec(part);
    if (m) f.set(m[1], m[2]);
  }
  const num = (k: string) => (/^\d+$/.test(f.get(k) ?? "") ? Number(f.get(k)) : NaN);
  const s: Stamp = {
    report: num("report"), kind: f.get("kind") === "heartbeat" ? "heartbeat" : "report", from: num("from"), to: num("to"),
    epoch: num("epoch"), mac: f.get("mac") ?? "", time: num("time"), heartbeat: num("heartbeat"),
  };
  const ok = [s.report, s.from, s.to, s.epoch, s.time, s.heartbeat].every(Number.isFinite) && /^[0-9a-f]{64}$/.test(s.mac);
  return ok ? s : null;
}

/** The headers a mail carries (none when the chain is off). */
export function stampHeaders(s: Stamp | null): Record<string, string> {
  return s ? { [CHAIN_HEADER]: stampValue(s) } : {};
}

/** The body's last lines. */
export function stampFooter(s: Stamp | null): string {
  if (!s) return "\nChain: off (no tamper evidence; see integrityd --status)\n";
  return `\nChain: report #${s.report}, entries ${s.from}-${s.to}, head epoch ${s.epoch} mac ${s.mac}\n${CHAIN_HEADER}: ${stampValue(s)}\n`;
}

/** The relay accepted the mail: record it (inside the caller's transaction). */
export function chainMailed(db: Database, s: Stamp | null, at = Date.now()): void {
  if (s) appendData(db, "mail", { report: s.report, kind: s.kind, from: s.from, to: s.to, epoch: s.epoch, mac: s.mac }, at);
}

/** The heartbeat mail: "alive, nothing to report" and the chain head. */
export function heartbeatMail(host: string, s: Stamp | null, sinceMs: number): { subject: string; text: string } {
  const hours = Math.round(sinceMs / 360_000) / 10;
  return {
    subject: `integrityd heartbeat ${host}`,
    text: `integrityd on ${host} is alive: nothing to report in the last ${hours} h.\n`
      + (s ? `Chain head: entry ${s.to}, epoch ${s.epoch}, mac ${s.mac}.\n` : "")
      + "A missing heartbeat means integrityd, its host or its mail was stopped.\n"
      + stampFooter(s),
  };
}
