// The chain's first key at --init-db and --install: made when the database
// has no chain yet (under the database lock, so no daemon appends unchained
// meanwhile), printed once with how to keep it. Returns the text to print.
import { openDatabase } from "../db/db.ts";
import { lockDatabase } from "../db/lock.ts";
import { initChain } from "./open.ts";

export function firstKey(database: string, keyPath: string): string {
  const db = openDatabase(database);
  try {
    if (db.query("SELECT 1 FROM chain LIMIT 1").get()) {
      const r = initChain(db, keyPath); // a chain already: says what it found, makes nothing
      return r.created ? "" : r.note;
    }
    const lock = lockDatabase(database, "--init-db (stop the daemon first to create the chain's first key)");
    try {
      const r = initChain(db, keyPath);
      if (!r.created) return r.note;
      return [
        `chain: first key made (${r.adopted.events} events and ${r.adopted.records} records already there were chained); the key file ${keyPath} holds only the evolved key.`,
        "",
        "  FIRST CHAIN KEY (shown once, never stored on this host):",
        `    ${r.key}`,
        "",
        "  Write it down now and keep it OFF this host: on paper in a safe place, or in",
        "  a password manager on your own machine. Anyone who has it can forge this host's",
        "  past, so never mail it, never paste it into a ticket, never leave it in a",
        "  shell history here. To check this host later, copy its database (and your mails",
        "  from it, as an mbox) to your machine and run:",
        "    integrityd --verify-chain --key - --database COPY --mails MBOX",
        "  typing the key at the prompt (standard input).",
      ].join("\n");
    } finally {
      lock.release();
    }
  } finally {
    db.close();
  }
}
