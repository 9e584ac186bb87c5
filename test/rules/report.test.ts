// logcheck's report text.

import { expect, test } from "bun:test";
import { sectionHeader } from "../../src/rules/report.ts";
import { classifierOf, reportOf } from "./helpers.ts";

test("report format: title, =-=- underline of the same length, lines in input order, blank line", () => {
  expect(sectionHeader("System Events")).toBe("System Events\n=-=-=-=-=-=-=\n");
  const c = classifierOf({ "cracking.d/evil": "EVIL\n" }, "server");
  const rep = reportOf(c, ["b line", "EVIL one", "a line", "EVIL two"]);
  expect(rep.format()).toBe(
    "Security Alerts for evil\n=-=-=-=-=-=-=-=-=-=-=-=-\nEVIL one\nEVIL two\n\nSystem Events\n=-=-=-=-=-=-=\nb line\na line\n\n",
  );
});
