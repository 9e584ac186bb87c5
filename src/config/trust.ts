// Which files integrityd may trust while running as root: its config, the
// `sendmail` program it runs, the logcheck rules homes it reads. Like sshd's
// StrictModes, a file is trusted only when nobody but root can change it or
// what its path leads to:
//   - the file and every directory on its path (symbolic links followed,
//     each link's own directory checked too) are owned by root or by the user
//     integrityd runs as;
//   - none is writable by others, nor by a group other than root's;
//   - exception: a sticky directory writable by all (/tmp) is fine when the
//     entry below it is owned by root or by us (nobody else may rename or
//     remove it there).
// The decision (`componentProblem`) is pure; `untrustedPath` walks the path
// with lstat/readlink, one component at a time, never opening anything.
import { lstatSync, readdirSync, readlinkSync } from "node:fs";
import { posix } from "node:path";

export interface Facts {
  uid: number;
  gid: number;
  mode: number; // st_mode, type bits included
}

const S_IFMT = 0o170000, S_IFDIR = 0o040000;
const MAX_LINKS = 40;

/** Why this component cannot be trusted, or null (me: the user integrityd runs as). */
export function componentProblem(f: Facts, me: number): string | null {
  const owner = f.uid === 0 || f.uid === me;
  if (!owner) return `owned by uid ${f.uid}`;
  const isDir = (f.mode & S_IFMT) === S_IFDIR;
  const open = (f.mode & 0o002) !== 0;
  const sticky = (f.mode & 0o1000) !== 0;
  if (open && !(isDir && sticky)) return `writable by others (mode ${octal(f.mode)})`;
  if ((f.mode & 0o020) !== 0 && f.gid !== 0 && !(isDir && sticky && open)) return `writable by group ${f.gid} (mode ${octal(f.mode)})`;
  return null;
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, "0");
}

/**
 * Null when `path` can be trusted, else a one-line reason naming the
 * offending component. A missing component is a reason too (the caller
 * decides whether a missing file is an error).
 */
export function untrustedPath(path: string, me = process.geteuid?.() ?? 0): string | null {
  if (!posix.isAbsolute(path)) return `${path}: not an absolute path`;
  let rest = path.split("/").filter((c) => c !== "" && c !== ".");
  let dir = "/";
  let links = 0;
  let st;
  try {
    st = lstatSync("/");
  } catch (e) {
    return `/: ${(e as NodeJS.ErrnoException).code ?? "cannot stat"}`;
  }
  let problem = componentProblem(st, me);
  if (problem) return `/ is ${problem}`;
  let stickyOpen = (st.mode & 0o1002) === 0o1002;
  while (rest.length > 0) {
    const name = rest.shift()!;
    if (name === "..") {
      dir = posix.dirname(dir);
      continue;
    }
    const p = posix.join(dir, name);
    try {
      st = lstatSync(p);
    } catch (e) {
      return `${p}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : ((e as NodeJS.ErrnoException).code ?? "cannot stat")}`;
    }
    if (st.isSymbolicLink()) {
      // the link lives in `dir`, already checked; it may be replaced only by
      // whoever may write `dir` — and, in a sticky dir, by its owner
      if (stickyOpen && st.uid !== 0 && st.uid !== me) return `${p} is a symbolic link owned by uid ${st.uid} in a directory writable by all`;
      if (++links > MAX_LINKS) return `${p}: too many levels of symbolic links`;
      const target = readlinkSync(p);
      rest = [...target.split("/").filter((c) => c !== "" && c !== "."), ...rest];
      if (target.startsWith("/")) {
        dir = "/";
        stickyOpen = false;
      }
      continue;
    }
    problem = componentProblem(st, me);
    if (problem) return `${p} is ${problem}`;
    if (rest.length > 0 && !st.isDirectory()) return `${p}: not a directory`;
    dir = p;
    stickyOpen = st.isDirectory() && (st.mode & 0o1002) === 0o1002;
  }
  return null;
}

/**
 * Null when a logcheck rules home can be trusted: its path, and every
 * directory and file up to two levels below it (the rule dirs and their
 * files). A home that does not exist is not a problem here (the embedded
 * rules are used then).
 */
export function untrustedRulesHome(home: string, me = process.geteuid?.() ?? 0): string | null {
  try {
    lstatSync(home);
  } catch {
    return null;
  }
  const chain = untrustedPath(home, me);
  if (chain) return chain;
  const walk = (dir: string, depth: number): string | null => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (e) {
      return `${dir}: ${(e as NodeJS.ErrnoException).code ?? "cannot list"}`;
    }
    for (const n of names) {
      const p = posix.join(dir, n);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue; // gone meanwhile
      }
      const problem = componentProblem(st, me);
      if (problem) return `${p} is ${problem}`;
      if (depth > 0 && st.isDirectory()) {
        const below = walk(p, depth - 1);
        if (below) return below;
      }
    }
    return null;
  };
  return walk(home, 1);
}
