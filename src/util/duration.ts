// Durations and sizes as a person reads them, one format everywhere (mails,
// --status, stderr): "4.2s", "45s", "3m 5s", "2h 10m", "3d 4h". The names say
// the unit they take.

/** A duration given in seconds; "unknown" when it is not a finite, non-negative number. */
export function formatSeconds(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return "unknown";
  if (sec < 10 && Math.round(sec) !== sec && Math.round(sec * 10) < 100) return `${(Math.round(sec * 10) / 10).toFixed(1)}s`;
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** A duration given in milliseconds (same text as formatSeconds). */
export function formatMillis(ms: number): string {
  return formatSeconds(ms / 1000);
}

/** A byte count: "512 bytes", "1.5 KiB", "3.2 GiB". */
export function formatBytes(n: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let v = n, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[i]}`;
}
