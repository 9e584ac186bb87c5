// Byte sets: operations and the C locale's POSIX classes.

import { expect, test } from "bun:test";
import { classSet, DOT, NOT_WORD, setIntersects, setKey, setNegate, setOf, setSize, setUnion, singleChar, WORD } from "../../src/rules/charset.ts";

test("set operations", () => {
  const ab = setOf(97, 98);
  expect(setSize(ab)).toBe(2);
  expect(singleChar(ab)).toBe(-1);
  expect(singleChar(setOf(120))).toBe(120);
  expect(setSize(setUnion(ab, setOf(98, 99)))).toBe(3);
  expect(setIntersects(ab, setOf(99))).toBe(false);
  expect(setIntersects(ab, setOf(98))).toBe(true);
  expect(setKey(ab)).toBe(setKey(setOf(98, 97)));
  expect(setKey(ab)).not.toBe(setKey(setOf(97)));
});

test("negation and dot never match newline; classes are ASCII only", () => {
  const n = setNegate(setOf(97));
  expect([n[97], n[10], n[0], n[255]]).toEqual([0, 0, 1, 1]);
  expect(setSize(DOT)).toBe(255);
  expect(DOT[10]).toBe(0);
  expect(setSize(classSet("alpha")!)).toBe(52);
  expect(classSet("alpha")![0xe9]).toBe(0);
  expect(setSize(classSet("space")!)).toBe(6);
  expect(classSet("nope")).toBeNull();
  expect([WORD[95], WORD[48], WORD[45], NOT_WORD[45], NOT_WORD[95]]).toEqual([1, 1, 0, 1, 0]);
});
