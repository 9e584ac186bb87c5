// Moved to src/rules/ (reload.ts, layers.ts); this re-export goes once src/logs/tailer.ts imports from there.
export type { Classifier } from "../rules/layers.ts";
export { type LoadedRuleSet, ruleSetKey, RuleSets } from "../rules/reload.ts";
