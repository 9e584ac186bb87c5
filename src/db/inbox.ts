// The daemon's side of events_inbox (db/events.ts): events queued by a process
// without the chain key (the apt hook) are adopted at start and every
// INBOX_MS, so they reach the report within seconds, chained.
import type { Task, TaskContext } from "../task.ts";
import { log } from "../util/log.ts";
import { adoptInbox } from "./events.ts";

export const INBOX_MS = 2000;

export function createInboxTask(ctx: TaskContext, everyMs = INBOX_MS): Task {
  const adopt = () => {
    try {
      while (adoptInbox(ctx.db) > 0);
    } catch (e) {
      log.error(`events inbox: ${(e as Error).message}`);
    }
  };
  adopt();
  const timer = setInterval(adopt, everyMs);
  return {
    name: "inbox",
    stop() {
      clearInterval(timer);
    },
  };
}
