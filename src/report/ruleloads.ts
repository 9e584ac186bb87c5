// The rule sets loaded by this daemon: how many rules each holds and how long
// its last load took, noted by rules/reload.ts as each load ends and read by
// the metrics file (metricsfile.ts). In memory only: a leaf, no I/O.
export interface RuleLoad {
  home: string;
  level: string;
  rules: number;
  seconds: number;
}

const loads = new Map<string, RuleLoad>();

export function noteRuleLoad(l: RuleLoad): void {
  loads.set(`${l.home}\0${l.level}`, l);
}

/** The last load of every rule set, in the order first loaded. */
export function ruleLoads(): RuleLoad[] {
  return [...loads.values()];
}
