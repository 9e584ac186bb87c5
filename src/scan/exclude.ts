// `exclude` matching. A pattern without glob characters keeps the original
// meaning: that exact path and everything below it (whole path components, so
// `/etc/mtab` does not hide `/etc/mtab.evil`). A pattern with * ? or [ is a
// picomatch glob over the whole path (dot files included), e.g.
// `/var/lib/**/*.cache`. Excluded directories are not descended into, so a glob
// matching a directory also hides everything below it.
import picomatch from "picomatch";
import { isWithin, pathFrom, type PathBytes } from "./paths.ts";

export const GLOB_CHARS = /[*?[]/;

export type Matcher = (path: PathBytes) => boolean;

export function isGlob(pattern: string): boolean {
  return GLOB_CHARS.test(pattern);
}

export function makeExcluder(patterns: readonly string[]): Matcher {
  const prefixes: PathBytes[] = [];
  const globs: ((s: string) => boolean)[] = [];
  for (const p of patterns) {
    if (isGlob(p)) globs.push(picomatch(p, { dot: true }));
    else prefixes.push(pathFrom(p.length > 1 ? p.replace(/\/+$/, "") : p));
  }
  return (path: PathBytes) => {
    for (const pre of prefixes) if (isWithin(path, pre)) return true;
    if (globs.length === 0) return false;
    // Invalid UTF-8 becomes U+FFFD, which a wildcard still matches.
    const s = Buffer.from(path.buffer, path.byteOffset, path.byteLength).toString("utf8");
    for (const g of globs) if (g(s)) return true;
    return false;
  };
}
