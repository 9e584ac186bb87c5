// `exclude` matching. A pattern without glob characters keeps the original
// meaning: that exact path and everything below it (whole path components, so
// `/etc/mtab` does not hide `/etc/mtab.evil`). A pattern with * ? or [ is a
// glob over the whole path (glob.ts: its syntax, and why matching is linear in
// the path's length whatever the names), e.g. `/var/lib/**/*.cache`. Excluded
// directories are not descended into, so a glob matching a directory also
// hides everything below it. A malformed glob (checkGlob says why; the
// configuration refuses it) matches nothing here: makeExcluder never throws,
// and scanning too much is the safe side.
import { checkGlob, compileGlob, GlobError } from "../util/glob.ts";
import { isWithin, pathFrom, type PathBytes } from "./paths.ts";

export { checkGlob };

export const GLOB_CHARS = /[*?[]/;

export type Matcher = (path: PathBytes) => boolean;

export function isGlob(pattern: string): boolean {
  return GLOB_CHARS.test(pattern);
}

function globOrNothing(pattern: string): Matcher | null {
  try {
    return compileGlob(pattern);
  } catch (e) {
    if (e instanceof GlobError) return null;
    throw e;
  }
}

export function makeExcluder(patterns: readonly string[]): Matcher {
  const prefixes: PathBytes[] = [];
  const globs: Matcher[] = [];
  for (const p of patterns) {
    if (!isGlob(p)) prefixes.push(pathFrom(p.length > 1 ? p.replace(/\/+$/, "") : p));
    else {
      const g = globOrNothing(p);
      if (g) globs.push(g);
    }
  }
  return (path: PathBytes) => {
    for (const pre of prefixes) if (isWithin(path, pre)) return true;
    for (const g of globs) if (g(path)) return true;
    return false;
  };
}
