// The mails as the admin received them, against the chain: pure.
//
// An mbox file is split at its "From " lines; each message's chain stamp is
// read from its X-Integrityd-Chain header (unfolded), else from the last body
// line of that shape (a relay that drops unknown headers). Checks:
//   report numbers     a gap is a mail that never arrived (dropped, deleted)
//   ranges             each mail's range starts right after the previous head
//   heads              each mailed head (entry, epoch, MAC) is in the database
//                      as mailed: else the chain was rewritten at or before it,
//                      or (the database ends before it) truncated / restored
//   mail entries       a mail the database says was accepted but that is not
//                      in the mailbox
//   silence            two mails (or the last mail and now) further apart than
//                      the heartbeat period allows (core.ts silenceLimit)
import { formatMillis } from "../util/duration.ts";
import { silenceLimit } from "./core.ts";
import { CHAIN_HEADER, parseStamp, type Stamp } from "./stamp.ts";
import type { Finding } from "./verify.ts";

/** The stamps of the messages in an mbox, and how many messages had none. */
export function parseMbox(text: string): { stamps: Stamp[]; unstamped: number } {
  const messages = text.replace(/\r\n/g, "\n").split(/^From (?=\S)/m).filter((m) => m.trim() !== "");
  const stamps: Stamp[] = [];
  let unstamped = 0;
  const name = CHAIN_HEADER.toLowerCase();
  for (const m of messages) {
    const split = m.indexOf("\n\n");
    const head = (split < 0 ? m : m.slice(0, split)).replace(/\n[ \t]+/g, " ");
    const body = split < 0 ? "" : m.slice(split + 2);
    let stamp: Stamp | null = null;
    for (const line of head.split("\n")) {
      const c = line.indexOf(":");
      if (c > 0 && line.slice(0, c).trim().toLowerCase() === name) stamp = parseStamp(line.slice(c + 1));
    }
    if (!stamp) {
      const lines = body.split("\n").filter((l) => l.startsWith(`${CHAIN_HEADER}: `));
      if (lines.length) stamp = parseStamp(lines[lines.length - 1].slice(CHAIN_HEADER.length + 2));
    }
    if (stamp) stamps.push(stamp);
    else unstamped++;
  }
  return { stamps, unstamped };
}

/** What the mail checks need of the database. */
export interface ChainView {
  /** entries in the database (its head seq) */
  head: number;
  /** the MAC and epoch of an entry, null when it is not there */
  entry(seq: number): { mac: string; epoch: number } | null;
  /** the mail entries: what the database says was sent */
  mails: { seq: number; time: number; report: number; mac: string }[];
}

const at = (ms: number) => new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");

export function checkMails(all: readonly Stamp[], db: ChainView, now: number): Finding[] {
  const out: Finding[] = [];
  // one stamp per report number for the sequence: a mail delivered twice is
  // the same mail; a report number sent again with a later head is a mail the
  // database could not record as sent (reporter.ts: at-least-once). Every
  // stamp's head is checked against the database below all the same.
  const byReport = new Map<number, Stamp>();
  for (const s of all) {
    const prev = byReport.get(s.report);
    if (!prev || s.to > prev.to) byReport.set(s.report, s);
  }
  const stamps = [...byReport.values()].sort((a, b) => a.report - b.report);
  for (let i = 1; i < stamps.length; i++) {
    const s = stamps[i];
    const p = stamps[i - 1];
    if (s.report !== p.report + 1) {
      out.push({ seq: null, text: `report${s.report - p.report > 2 ? `s #${p.report + 1}-#${s.report - 1} are` : ` #${p.report + 1} is`} missing from the mailbox (between ${at(p.time)} and ${at(s.time)}): dropped or deleted` });
    } else if (s.from !== p.to + 1) {
      out.push({ seq: s.from, text: `report #${s.report} covers entries from ${s.from}, but report #${p.report} ended at ${p.to}` });
    }
  }
  const sorted = [...all].sort((a, b) => a.report - b.report || a.to - b.to);
  for (let i = 0; i < sorted.length; i++) {
    const s = sorted[i];
    const p = i > 0 ? sorted[i - 1] : null;
    const e = db.entry(s.to);
    if (!e) {
      out.push({ seq: db.head + 1, text: `the database ends at entry ${db.head}, but report #${s.report} (${at(s.time)}) carried head entry ${s.to}: the chain was truncated, or an older copy of the database restored` });
    } else if (e.mac !== s.mac || e.epoch !== s.epoch) {
      out.push({ seq: s.to, text: `entry ${s.to} is not the head mailed in report #${s.report} (${at(s.time)}): the chain was rewritten at or before it${p ? ` (after entry ${p.to}, the head of report #${p.report})` : ""}` });
    }
  }
  const last = stamps.length ? stamps[stamps.length - 1] : null;
  for (const m of db.mails) {
    if (!byReport.has(m.report) && (!last || m.report > last.report)) {
      out.push({ seq: m.seq, text: `report #${m.report} was accepted by the relay at ${at(m.time)} (entry ${m.seq}) but is not in the mailbox` });
    }
  }
  // silence: heartbeats missing
  const byTime = [...stamps].sort((a, b) => a.time - b.time);
  for (let i = 1; i < byTime.length; i++) {
    const a = byTime[i - 1], b = byTime[i];
    const limit = silenceLimit(a.heartbeat * 1000);
    if (limit > 0 && b.time - a.time > limit) {
      out.push({ seq: null, text: `no mail between ${at(a.time)} (report #${a.report}) and ${at(b.time)} (report #${b.report}), ${formatMillis(b.time - a.time)} with a heartbeat every ${formatMillis(a.heartbeat * 1000)}: integrityd, its host or its mail was stopped` });
    }
  }
  const lastByTime = byTime.length ? byTime[byTime.length - 1] : null;
  if (lastByTime && silenceLimit(lastByTime.heartbeat * 1000) > 0 && now - lastByTime.time > silenceLimit(lastByTime.heartbeat * 1000)) {
    out.push({ seq: null, text: `no mail since ${at(lastByTime.time)} (report #${lastByTime.report}), ${formatMillis(now - lastByTime.time)} ago with a heartbeat every ${formatMillis(lastByTime.heartbeat * 1000)}: integrityd, its host or its mail is stopped` });
  }
  return out;
}
