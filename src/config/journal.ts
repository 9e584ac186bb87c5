// The value of a `journal = …` config line, parsed without I/O (config.ts
// calls it; the journal reader in src/logs/journal/ uses the result).
//
//   journal = all                              the local system journal, every entry
//   journal = _SYSTEMD_UNIT=ssh.service + _COMM=su    journalctl matches (+ is OR)
//   journal = directory:/srv/imported          journal files in a directory (untrusted `_` fields)
//   journal = trusted-directory:/var/log/journal/ID _TRANSPORT=syslog
//
// Words are separated by blanks: the first may name where the journal is
// (`all`/`local`, `directory:/PATH`, `trusted-directory:/PATH`); every other
// word is a match FIELD=VALUE (FIELD in journal field syntax: upper-case
// letters, digits, `_`) or `+`. A value cannot hold a blank.
// `source` is the canonical text of the whole line: it names the journal's
// state (its cursor) in the database, so the same line written differently
// (extra blanks, `local` for `all`) keeps its cursor.

/** One `journal = …` line with the `logrules` that was in force above it. */
export interface JournalSpec {
  /** canonical text of the line: where ("local", "directory:/p", "trusted-directory:/p") and the matches */
  source: string;
  /** journal directory (journalctl --directory); null: the local system journal */
  directory: string | null;
  /** a directory declared written by a local journald (its `_` fields are trusted) */
  trustedDirectory: boolean;
  /** journalctl match arguments: FIELD=VALUE or "+" */
  matches: string[];
  level: "paranoid" | "server" | "workstation";
  rules: string;
  line: number;
}

const FIELD_MATCH = /^[A-Z0-9_]+=[^\s]*$/;

/** The spec of `value`, or an error message. */
export function parseJournalValue(
  value: string, logrules: { level: JournalSpec["level"]; rules: string }, line: number,
): JournalSpec | string {
  const words = value.split(/[ \t]+/).filter(Boolean);
  let directory: string | null = null;
  let trustedDirectory = false;
  let where = "local";
  const first = words[0] ?? "";
  const dir = /^(directory|trusted-directory):(.*)$/.exec(first);
  if (first === "all" || first === "local") words.shift();
  else if (dir) {
    words.shift();
    const p = dir[2].replace(/\/{2,}/g, "/").replace(/(.)\/$/, "$1");
    if (!p.startsWith("/")) return `journal: '${dir[2]}' is not an absolute path`;
    directory = p;
    trustedDirectory = dir[1] === "trusted-directory";
    where = `${dir[1]}:${p}`;
  }
  for (const w of words) {
    if (w === "+") continue;
    if (!FIELD_MATCH.test(w)) {
      return `journal: '${w}' is not a match FIELD=VALUE (FIELD in upper case), '+', all, directory:/PATH or trusted-directory:/PATH`;
    }
  }
  if (words[0] === "+" || words[words.length - 1] === "+") return "journal: '+' must stand between two matches";
  return { source: [where, ...words].join(" "), directory, trustedDirectory, matches: words, level: logrules.level, rules: logrules.rules, line };
}
