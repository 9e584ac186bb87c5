import { expect, test } from "bun:test";
import { sectionUnderline } from "../../src/util/heading.ts";

test("the underline is as long as the title, =- repeated", () => {
  expect(sectionUnderline("System Events")).toBe("=-=-=-=-=-=-=");
  expect(sectionUnderline("ab")).toBe("=-");
  expect(sectionUnderline("")).toBe("");
});
