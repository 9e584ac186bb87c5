// The kernel's event records, decoded: pure (bytes in, records out; no I/O).
//
//   parseFanotify  struct fanotify_event_metadata (24 bytes: event_len,
//                  vers, reserved, metadata_len, mask u64, fd, pid) and its
//                  info records; of those only FAN_EVENT_INFO_TYPE_DFID_NAME
//                  is used: the fsid, the directory's file_handle
//                  (handle_bytes, handle_type, f_handle) and the entry's name
//   parseInotify   struct inotify_event (wd, mask, cookie, len, name[len])
//
// Every length comes from the kernel but is still checked against the
// buffer: a record that does not fit ends the parse (never a crash, never a
// read past the end). Names are raw bytes (file names are hostile bytes).
import { FAN, IN } from "./ffi.ts";

export interface FanRecord {
  mask: number;
  pid: number;
  overflow: boolean;
  /** The directory: its file system id (hex) and its struct file_handle as bytes (for open_by_handle_at). */
  fsid?: string;
  handle?: Uint8Array;
  /** The entry's name in that directory ("." when the event is on the directory itself). */
  name?: Uint8Array;
}

export function parseFanotify(buf: Uint8Array, n: number): FanRecord[] {
  const out: FanRecord[] = [];
  const v = new DataView(buf.buffer, buf.byteOffset, n);
  for (let off = 0; off + 24 <= n; ) {
    const len = v.getUint32(off, true);
    const metaLen = v.getUint16(off + 6, true);
    if (len < 24 || off + len > n || metaLen < 24 || metaLen > len) break;
    const mask = Number(v.getBigUint64(off + 8, true) & 0xffffffffn);
    const rec: FanRecord = { mask, pid: v.getInt32(off + 20, true), overflow: (mask & FAN.Q_OVERFLOW) !== 0 };
    for (let i = off + metaLen; i + 4 <= off + len; ) {
      const type = v.getUint8(i);
      const ilen = v.getUint16(i + 2, true);
      if (ilen < 4 || i + ilen > off + len) break;
      if (type === FAN.INFO_DFID_NAME && ilen >= 4 + 8 + 8) {
        const hb = v.getUint32(i + 12, true);
        const hEnd = i + 12 + 8 + hb;
        if (hEnd <= i + ilen) {
          rec.fsid = Buffer.from(buf.subarray(i + 4, i + 12)).toString("hex");
          rec.handle = buf.slice(i + 12, hEnd);
          let z = hEnd;
          while (z < i + ilen && buf[z] !== 0) z++;
          rec.name = buf.slice(hEnd, z);
        }
      }
      i += ilen;
    }
    out.push(rec);
    off += len;
  }
  return out;
}

export interface InRecord {
  wd: number;
  mask: number;
  name: Uint8Array;
  overflow: boolean;
}

export function parseInotify(buf: Uint8Array, n: number): InRecord[] {
  const out: InRecord[] = [];
  const v = new DataView(buf.buffer, buf.byteOffset, n);
  for (let off = 0; off + 16 <= n; ) {
    const len = v.getUint32(off + 12, true);
    if (off + 16 + len > n) break;
    let z = off + 16;
    while (z < off + 16 + len && buf[z] !== 0) z++;
    const mask = v.getUint32(off + 4, true);
    out.push({ wd: v.getInt32(off, true), mask, name: buf.slice(off + 16, z), overflow: (mask & IN.Q_OVERFLOW) !== 0 });
    off += 16 + len;
  }
  return out;
}
