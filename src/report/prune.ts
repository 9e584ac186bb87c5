// Retention of the report queue and the mail log, so that a daemon running for
// years keeps a bounded database.
//
// An event is finished when every way out has taken it: mail (when mail is on:
// `mailed` is set) and each append-only sink (its cursor is at or past it). A
// finished event is kept EVENT_RETENTION_MS (db/events.ts) more (for --status and the mail
// footer's context), then deleted. An event that is not finished is kept however
// old it is: an SMTP outage of a month loses nothing. With mail off, nothing
// will ever mark an event mailed, so mail does not hold it back; enabling mail
// later sends what is younger than the retention. The newest event is never
// deleted: the next id must stay above every sink's cursor (ids are max + 1).
//
// Mail attempts (`mails`) are kept MAIL_LOG_RETENTION_MS, and the last
// successful one always (--status shows it). The history of file changes is
// not pruned: it is the record of what changed.
//
// Deleted rows free pages for reuse inside the file; the file does not shrink.
import type { Database } from "bun:sqlite";
import { chainPrune } from "../chain/append.ts";
import { EVENT_RETENTION_MS } from "../db/events.ts";
import { getCursor } from "./sinks.ts";

export const MAIL_LOG_RETENTION_MS = 90 * 86_400_000;
/** How often the reporter prunes. */
export const PRUNE_EVERY_MS = 3_600_000;
/** Rows deleted per transaction (the caller yields in between). */
export const PRUNE_CHUNK = 2000;

export interface PruneScope {
  /** Mail is on (email is not none): an event must have been mailed first. */
  mailOn: boolean;
  /** The append-only sinks configured (their cursors hold events back). */
  sinks: readonly string[];
}

/**
 * Delete one chunk of what the retention lets go (in one transaction).
 * Returns the number of rows deleted; a full chunk means there may be more.
 */
export function pruneChunk(db: Database, now: number, scope: PruneScope, chunk = PRUNE_CHUNK): number {
  return db.transaction(() => {
    const newest = (db.query("SELECT coalesce(max(id), 0) AS m FROM events").get() as { m: number }).m;
    let upTo = newest - 1;
    for (const s of scope.sinks) upTo = Math.min(upTo, getCursor(db, s));
    let deleted = 0;
    if (upTo > 0) {
      deleted += db
        .query(
          `DELETE FROM events WHERE id IN (
             SELECT id FROM events WHERE id <= ? AND time < ? ${scope.mailOn ? "AND mailed IS NOT NULL" : ""} ORDER BY id LIMIT ?)`,
        )
        .run(upTo, now - EVENT_RETENTION_MS, chunk).changes;
      if (deleted > 0) chainPrune(db, upTo, now - EVENT_RETENTION_MS, now);
    }
    if (deleted < chunk) {
      deleted += db
        .query(
          `DELETE FROM mails WHERE id IN (
             SELECT id FROM mails WHERE time < ? AND id <> (SELECT coalesce(max(id), 0) FROM mails WHERE ok = 1) ORDER BY id LIMIT ?)`,
        )
        .run(now - MAIL_LOG_RETENTION_MS, chunk - deleted).changes;
    }
    return deleted;
  }).immediate();
}
