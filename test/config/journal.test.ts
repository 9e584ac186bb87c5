// `journal = …` lines: where the journal is, its matches, the logrules in
// force, and clear FILE:LINE errors for what is not a journal source.
import { expect, test } from "bun:test";
import { parseConfig } from "../../src/config/config.ts";
import { formatConfig } from "../../src/config/format.ts";

const parse = (t: string) => parseConfig(t, "/etc/integrityd.conf");

test("local journal, matches with OR, directories; each with the logrules above it", () => {
  const { config, errors } = parse([
    "journal = all",
    "logrules = paranoid:/srv/rules",
    "journal =  _SYSTEMD_UNIT=ssh.service   +  _COMM=su",
    "journal = directory:/srv/imported//",
    "journal = trusted-directory:/var/log/journal/abc _TRANSPORT=syslog",
  ].join("\n"));
  expect(errors).toEqual([]);
  expect(config.journals).toEqual([
    { source: "local", directory: null, trustedDirectory: false, matches: [], level: "server", rules: "/etc/logcheck", line: 1 },
    { source: "local _SYSTEMD_UNIT=ssh.service + _COMM=su", directory: null, trustedDirectory: false, matches: ["_SYSTEMD_UNIT=ssh.service", "+", "_COMM=su"], level: "paranoid", rules: "/srv/rules", line: 3 },
    { source: "directory:/srv/imported", directory: "/srv/imported", trustedDirectory: false, matches: [], level: "paranoid", rules: "/srv/rules", line: 4 },
    { source: "trusted-directory:/var/log/journal/abc _TRANSPORT=syslog", directory: "/var/log/journal/abc", trustedDirectory: true, matches: ["_TRANSPORT=syslog"], level: "paranoid", rules: "/srv/rules", line: 5 },
  ]);
  // the effective config reads back the same
  const again = parse(formatConfig(config, "h"));
  expect(again.errors).toEqual([]);
  expect(again.config.journals.map((j) => [j.source, j.level, j.rules])).toEqual(config.journals.map((j) => [j.source, j.level, j.rules]));
});

test("bad journal values are FILE:LINE errors; the same source twice too", () => {
  const { errors } = parse("journal = directory:relative\njournal = --after-cursor=x\njournal = lower=case\njournal = + _A=1\njournal = all\njournal = local\n");
  expect(errors.map((e) => [e.line, e.message.split(":")[0]])).toEqual([[1, "journal"], [2, "journal"], [3, "journal"], [4, "journal"], [6, "journal"]]);
  expect(errors[1].message).toContain("'--after-cursor=x' is not a match");
  expect(errors[4].message).toContain("given twice");
});
