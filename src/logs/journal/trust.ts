// Who wrote a journal entry, and whether a line is spoofed (pure).
//
// journald itself adds the `_` fields (_UID, _GID, _PID, _COMM, _EXE,
// _SYSTEMD_UNIT, _TRANSPORT, _MACHINE_ID) from the sender's socket
// credentials and /proc; a client cannot set them. So they are the origin of
// an entry — but only in a journal written by the local journald:
//  - the local system journal (`journal = all` or matches): trusted, entry by
//    entry, when the entry carries _TRANSPORT (journald adds it to every
//    entry) and its _MACHINE_ID is this machine's (/etc/machine-id; when that
//    cannot be read the check is left out);
//  - `directory:/PATH`: never trusted. Journals imported with
//    systemd-journal-remote (or copied from another host) keep every field the
//    sender sent, `_` fields included: anyone who can send to the importer
//    writes them;
//  - `trusted-directory:/PATH`: the admin says a journald wrote it (a
//    persistent journal read by directory, a container's journal); trusted
//    when the entry carries _TRANSPORT and the directory, and the files in
//    it, can be changed by root alone (src/config/trust.ts); otherwise read
//    as untrusted, with a notice.
//
// Spoofing: a local user can run `logger -t sshd 'Accepted password for root
// from …'`; logcheck sees only the text. A trusted entry whose identifier
// (SYSLOG_IDENTIFIER, else _COMM) names a daemon of DAEMONS is spoofed when
//  - the daemon runs as root only and _UID is not 0; or
//  - _EXE is known and is not one of the daemon's programs; or
//  - _EXE is missing (the sender exited before journald looked: logger
//    does) and _COMM is known and is not one of the programs' names;
//  - the identifier is "kernel" and _TRANSPORT is not "kernel".
// An entry without _EXE and _COMM from root is not judged (root can write
// anything anyway). Untrusted entries are never judged: their `_` fields
// prove nothing either way.

import type { JournalEntry } from "./export.ts";

/** The origin of an entry, as carried in an event's details.journal. */
export interface Origin {
  uid: number | null;
  gid: number | null;
  pid: number | null;
  comm: string | null;
  exe: string | null;
  unit: string | null;
  identifier: string | null;
  transport: string | null;
  trusted: boolean;
}

interface Daemon {
  /** its programs (the /usr form; /bin, /sbin and /lib are folded into /usr) */
  exe: string[];
  /** it logs as root only */
  root?: boolean;
}

const SSHD: Daemon = { exe: ["/usr/sbin/sshd", "/usr/lib/openssh/sshd-session", "/usr/lib/openssh/sshd-auth"], root: true };
const sbin = (name: string): Daemon => ({ exe: [`/usr/sbin/${name}`], root: true });

/** Daemons whose lines the logcheck rules take on trust, by identifier. */
export const DAEMONS: Readonly<Record<string, Daemon>> = {
  sshd: SSHD,
  "sshd-session": SSHD,
  sudo: { exe: ["/usr/bin/sudo"] },
  su: { exe: ["/usr/bin/su"] },
  login: { exe: ["/usr/bin/login"], root: true },
  systemd: { exe: ["/usr/lib/systemd/systemd"] },
  "systemd-logind": { exe: ["/usr/lib/systemd/systemd-logind"], root: true },
  CRON: { exe: ["/usr/sbin/cron"], root: true },
  cron: { exe: ["/usr/sbin/cron"], root: true },
  passwd: { exe: ["/usr/bin/passwd"] },
  chfn: { exe: ["/usr/bin/chfn"] },
  chsh: { exe: ["/usr/bin/chsh"] },
  unix_chkpwd: { exe: ["/usr/sbin/unix_chkpwd"] },
  pkexec: { exe: ["/usr/bin/pkexec"] },
  polkitd: { exe: ["/usr/lib/polkit-1/polkitd"] },
  useradd: sbin("useradd"),
  userdel: sbin("userdel"),
  usermod: sbin("usermod"),
  groupadd: sbin("groupadd"),
  groupdel: sbin("groupdel"),
  groupmod: sbin("groupmod"),
  chpasswd: sbin("chpasswd"),
  kernel: { exe: [] },
};

/** /bin/x, /sbin/x, /lib/x → /usr/… (merged /usr: the same program). */
export function usrPath(p: string): string {
  return /^\/(s?bin|lib)\//.test(p) ? `/usr${p}` : p;
}

/** Names a program shows as _COMM (the kernel keeps 15 bytes). */
const commOf = (exe: string) => exe.slice(exe.lastIndexOf("/") + 1).slice(0, 15);

/** Why a trusted entry of this origin is spoofed, or null. */
export function spoofReason(o: Origin): string | null {
  if (!o.trusted || o.identifier === null) return null;
  const d = Object.hasOwn(DAEMONS, o.identifier) ? DAEMONS[o.identifier] : undefined;
  if (d === undefined) return null;
  const who = `_UID=${o.uid ?? "?"} _EXE=${o.exe ?? "?"} _COMM=${o.comm ?? "?"}`;
  if (o.identifier === "kernel") {
    return o.transport === "kernel" ? null : `identifier kernel but _TRANSPORT=${o.transport ?? "?"} (${who})`;
  }
  if (d.root && o.uid !== 0) return `identifier ${o.identifier} (a root daemon) but ${who}`;
  if (o.exe !== null) return d.exe.includes(usrPath(o.exe)) ? null : `identifier ${o.identifier} but ${who}`;
  if (o.comm !== null) return d.exe.some((e) => commOf(e) === o.comm) ? null : `identifier ${o.identifier} but ${who}`;
  return null;
}

/**
 * A fast look (no decoding) that a daemon's entry is plainly its own: the
 * kernel transport for "kernel"; else root when the daemon logs as root, and
 * _EXE exactly one of its programs. True implies spoofReason(originOf(e)) is
 * null; false means: judge it in full (originOf + spoofReason).
 */
export function plainlyGenuine(e: JournalEntry, identifier: string): boolean {
  const d = DAEMONS[identifier];
  if (identifier === "kernel") return e.is("_TRANSPORT", "kernel");
  if (d.root && e.int("_UID") !== 0) return false;
  for (const x of d.exe) if (e.is("_EXE", x)) return true;
  return false;
}

const num = (s: string | undefined): number | null => (s !== undefined && /^\d{1,10}$/.test(s) ? Number(s) : null);

/**
 * The origin of entry `e` of a source whose `_` fields may be trusted
 * (`sourceTrusted`); `machineId`: this machine's id, checked against
 * _MACHINE_ID when given (the local journal), null to leave that check out.
 */
export function originOf(e: JournalEntry, sourceTrusted: boolean, machineId: string | null): Origin {
  const transport = e.text("_TRANSPORT") ?? null;
  const trusted = sourceTrusted && transport !== null && (machineId === null || e.text("_MACHINE_ID") === machineId);
  return {
    uid: num(e.text("_UID")),
    gid: num(e.text("_GID")),
    pid: num(e.text("_PID")),
    comm: e.text("_COMM") ?? null,
    exe: e.text("_EXE") ?? null,
    unit: e.text("_SYSTEMD_UNIT") ?? null,
    identifier: e.text("SYSLOG_IDENTIFIER") ?? e.text("_COMM") ?? null,
    transport,
    trusted,
  };
}
