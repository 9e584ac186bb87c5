// Datagrams to a unix socket (the local syslog socket, /dev/log or one of the
// admin's choosing), through libc's socket(2)/sendto(2) by bun:ffi: Bun and
// Node have no unix datagram sockets. Contract: send() hands one message to
// the socket as one datagram or throws { code } (ENOENT: no socket there,
// ECONNREFUSED: nobody reads it, EAGAIN: its queue is full — never blocks the
// event loop: the socket is non-blocking). The socket is made once and
// addressed per message, so a syslog daemon that restarts (a new socket at
// the same path) is found again by the next send.
import { dlopen, FFIType, read } from "bun:ffi";
import { constants } from "node:os";

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const SUN_PATH = 108;

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(constants.errno).map(([k, v]) => [v, k]));

export interface UnixDgram {
  send(message: Uint8Array): void;
  close(): void;
}

type Lib = ReturnType<typeof open>;
let lib: Lib | null = null;

function open() {
  return dlopen("libc.so.6", {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    sendto: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i64 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
}

function fail(l: Lib, what: string, path: string): never {
  const n = read.i32(l.symbols.__errno_location()!, 0);
  const code = NAMES[n] ?? `E${n}`;
  throw Object.assign(new Error(`${path}: ${what}: ${code}`), { code });
}

/** A sender to the unix datagram socket at `path` (absolute, at most 107 bytes). Throws when libc cannot be used. */
export function unixDgram(path: string): UnixDgram {
  if (process.platform !== "linux") throw new Error("unix datagram sockets: Linux only");
  const name = Buffer.from(path, "utf8");
  if (name.length >= SUN_PATH || name.includes(0)) throw new Error(`${path}: not a usable unix socket path (at most ${SUN_PATH - 1} bytes)`);
  lib ??= open();
  const l = lib;
  const addr = Buffer.alloc(2 + SUN_PATH);
  addr.writeUInt16LE(AF_UNIX, 0);
  name.copy(addr, 2);
  const addrLen = 2 + name.length + 1;
  let fd = l.symbols.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail(l, "socket", path);
  return {
    send(message) {
      if (fd < 0) throw new Error(`${path}: closed`);
      const n = Number(l.symbols.sendto(fd, message, message.length, MSG_DONTWAIT | MSG_NOSIGNAL, addr, addrLen));
      if (n < 0) fail(l, "sendto", path);
      if (n !== message.length) throw Object.assign(new Error(`${path}: short datagram (${n} of ${message.length} bytes)`), { code: "EMSGSIZE" });
    },
    close() {
      if (fd >= 0) l.symbols.close(fd);
      fd = -1;
    },
  };
}
