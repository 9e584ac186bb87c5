// Spoof detection (pure): a trusted entry whose identifier claims a system
// daemon while _UID/_EXE/_COMM say otherwise is spoofed; the real daemon is
// not; untrusted entries are never judged.
import { expect, test } from "bun:test";
import { originOf, spoofReason, type Origin } from "../../../src/logs/journal/trust.ts";
import { ExportParser } from "../../../src/logs/journal/export.ts";
import { entry, exportBytes } from "../../support/journal.ts";

const o = (over: Partial<Origin>): Origin => ({
  uid: 0, gid: 0, pid: 1, comm: "sshd", exe: "/usr/sbin/sshd", unit: "ssh.service", identifier: "sshd", transport: "syslog", trusted: true, ...over,
});

test("the real sshd is not spoofed; /sbin and /usr/sbin are the same program", () => {
  expect(spoofReason(o({}))).toBeNull();
  expect(spoofReason(o({ exe: "/sbin/sshd" }))).toBeNull();
  expect(spoofReason(o({ exe: "/usr/lib/openssh/sshd-session", comm: "sshd-session" }))).toBeNull();
});

test("logger -t sshd by a user: spoofed, by uid, by exe, and by comm when _EXE is gone", () => {
  expect(spoofReason(o({ uid: 1000, exe: "/usr/bin/logger", comm: "logger" }))).toContain("a root daemon");
  expect(spoofReason(o({ uid: 0, exe: "/usr/bin/logger", comm: "logger" }))).toContain("_EXE=/usr/bin/logger");
  expect(spoofReason(o({ uid: 0, exe: null, comm: "logger" }))).toContain("_COMM=logger");
  expect(spoofReason(o({ uid: 1000, exe: "/usr/sbin/sshd" }))).toContain("_UID=1000"); // a user running sshd on a high port
  expect(spoofReason(o({ uid: 0, exe: null, comm: null }))).toBeNull(); // root, nothing to judge by
});

test("sudo and su run as the calling user: judged by program only", () => {
  expect(spoofReason(o({ identifier: "sudo", uid: 1000, exe: "/usr/bin/sudo", comm: "sudo" }))).toBeNull();
  expect(spoofReason(o({ identifier: "sudo", uid: 1000, exe: "/usr/bin/python3", comm: "python3" }))).toContain("identifier sudo");
});

test("kernel lines must come by the kernel transport; unknown identifiers and untrusted entries are not judged", () => {
  expect(spoofReason(o({ identifier: "kernel", transport: "kernel", uid: null, exe: null, comm: null }))).toBeNull();
  expect(spoofReason(o({ identifier: "kernel", transport: "syslog", uid: 1000 }))).toContain("_TRANSPORT=syslog");
  expect(spoofReason(o({ identifier: "myapp", uid: 1000, exe: "/usr/bin/logger" }))).toBeNull();
  expect(spoofReason(o({ uid: 1000, exe: "/usr/bin/logger", trusted: false }))).toBeNull();
  expect(spoofReason(o({ identifier: "constructor", uid: 1000 }))).toBeNull(); // no prototype lookups
});

test("originOf: trusted only from a trusted source, with _TRANSPORT, and this machine's id when one is given", () => {
  const e = new ExportParser().push(exportBytes([entry("m", 1, { _MACHINE_ID: "a".repeat(32), _UID: "1000", _EXE: "/usr/bin/logger" })]))[0];
  const noTransport = new ExportParser().push(exportBytes([{ MESSAGE: "m", _UID: "0" }]))[0];
  expect(originOf(e, true, null)).toMatchObject({ uid: 1000, exe: "/usr/bin/logger", identifier: "sshd", trusted: true });
  expect(originOf(e, true, "a".repeat(32)).trusted).toBe(true);
  expect(originOf(e, true, "b".repeat(32)).trusted).toBe(false);
  expect(originOf(e, false, null).trusted).toBe(false);
  expect(originOf(noTransport, true, null).trusted).toBe(false);
});
