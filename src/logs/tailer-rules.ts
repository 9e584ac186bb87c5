// Moved to src/rules/reload.ts; this re-export goes once src/logs/tailer.ts imports from there.
export { type Classifier, type LoadedRuleSet, ruleSetKey, RuleSets } from "../rules/reload.ts";
