// A notice that cannot wait for the queue: the database itself is broken,
// gone or replaced, so the usual path (an event row, then the reporter) may
// not work. The notice goes straight to every configured output that still
// works — mail (one message, bounded in time), the JSON log, syslog. The
// caller says it on stderr (the journal) itself. Each output is tried once;
// what failed is logged and returned.
import { closeSync, constants, fstatSync, openSync, writeSync } from "node:fs";
import type { Config } from "../config/config.ts";
import type { EventRow } from "../db/events.ts";
import { log } from "../util/log.ts";
import { safeHost } from "./format.ts";
import { createMailer, localHost, oneLine } from "./mail.ts";
import { jsonLine, loggerSend, rfc5424Send, syslogLine } from "./sinks.ts";

export const EMERGENCY_TIMEOUT_MS = 10_000;

export interface EmergencyResult {
  delivered: string[];
  failed: string[];
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms))),
  ]);
}

function appendJsonlog(path: string, line: string): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`${path}: not a regular file`);
    writeSync(fd, `\n${line}\n`); // a leading newline ends a line torn by the failure, if any
  } finally {
    closeSync(fd);
  }
}

/** The notice as an event row that is in no queue (id 0, channel "daemon", kind "fatal"). */
export function emergencyRow(config: Config, subject: string, text: string, now: number): EventRow {
  return {
    id: 0, time: now, channel: "daemon" as EventRow["channel"], kind: "fatal", urgent: 1,
    subject: config.database, section: "", text, details: JSON.stringify({ problem: subject }), mailed: null,
  };
}

/** subject: one short line ("database is corrupt"); text: the whole notice. */
export async function emergencyNotice(config: Config, subject: string, text: string, opts: { host?: string; timeoutMs?: number; syslogSocket?: string } = {}): Promise<EmergencyResult> {
  const host = opts.host ?? localHost();
  const timeout = opts.timeoutMs ?? EMERGENCY_TIMEOUT_MS;
  const res: EmergencyResult = { delivered: [], failed: [] };
  const row = emergencyRow(config, subject, text, Date.now());
  const tries: [string, () => Promise<void>][] = [];
  const mailer = createMailer(config, { host, timeout });
  if (mailer) {
    tries.push(["mail", async () => {
      try {
        const r = await withTimeout(mailer.send({ subject: `SECURITY ALERT: integrityd ${subject} on ${safeHost(host)}`, text: `${text}\n\n-- \nintegrityd on ${safeHost(host)}\n` }), timeout, "mail");
        if (!r.ok) throw new Error(r.error);
      } finally {
        mailer.close();
      }
    }]);
  }
  if (config.jsonlog !== "") tries.push(["jsonlog", async () => appendJsonlog(config.jsonlog, jsonLine(row, host))]);
  if (config.syslog) {
    const socket = opts.syslogSocket ?? config.syslogsocket;
    tries.push(["syslog", config.syslogformat === "rfc5424"
      ? async () => rfc5424Send({ facility: config.syslogfacility, socket, host }, [row])
      : () => withTimeout(loggerSend({ facility: config.syslogfacility, socket }, "alert", [syslogLine(row)]), timeout, "syslog")]);
  }
  await Promise.all(
    tries.map(async ([name, f]) => {
      try {
        await f();
        res.delivered.push(name);
      } catch (e) {
        res.failed.push(name);
        log.error(`${name}: the notice "${subject}" could not be delivered: ${oneLine((e as Error).message)}`);
      }
    }),
  );
  return res;
}
