// Moved to src/rules/testrules.ts; this re-export goes once src/cli/cli.ts imports from there.
export { runTestRules } from "../rules/testrules.ts";
