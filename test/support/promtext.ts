// A strict parser of the Prometheus text exposition format (0.0.4), as
// node-exporter's textfile collector reads it, for the metrics tests. It
// throws "LINE: problem" on anything the format (or the collector) refuses:
// a bad metric or label name, a bad escape in a label value, a value that is
// not a float, a timestamp (the textfile collector refuses them), HELP or
// TYPE given twice or after the family's samples, samples of one family not
// together, a series given twice, a counter not named *_total, a last line
// without its newline.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Family {
  name: string;
  help?: string;
  type?: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(s: string, where: string): number {
  if (s === "NaN") return NaN;
  if (s === "+Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) throw new Error(`${where}: '${s}' is not a float`);
  return Number(s);
}

export function parsePromText(text: string): Map<string, Family> {
  if (text !== "" && !text.endsWith("\n")) throw new Error("the last line has no newline");
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  let current = "";
  const series = new Set<string>();
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, samples: [] }));
    return f;
  };
  const lines = text.split("\n").slice(0, -1);
  lines.forEach((line, i) => {
    const where = `line ${i + 1}`;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return; // a plain comment
      const [, what, name, rest] = m;
      if (!NAME.test(name)) throw new Error(`${where}: bad metric name '${name}'`);
      const f = family(name);
      if (f.samples.length || closed.has(name)) throw new Error(`${where}: ${what} of ${name} after its samples`);
      if (what === "HELP") {
        if (f.help !== undefined) throw new Error(`${where}: HELP of ${name} given twice`);
        if (/\\[^\\n]/.test(rest)) throw new Error(`${where}: bad escape in HELP`);
        f.help = rest;
      } else {
        if (f.type !== undefined) throw new Error(`${where}: TYPE of ${name} given twice`);
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type '${rest}'`);
        if (rest === "counter" && !name.endsWith("_total")) throw new Error(`${where}: counter ${name} is not named *_total`);
        f.type = rest;
      }
      if (current !== name && current !== "") closed.add(current);
      current = name;
      return;
    }
    if (line.trim() === "") throw new Error(`${where}: empty line`);
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^]*\})? (\S+)( \S+)?$/.exec(line);
    if (!m) throw new Error(`${where}: not a sample: ${line}`);
    const [, name, rawLabels, value, ts] = m;
    if (ts !== undefined) throw new Error(`${where}: a timestamp (the textfile collector refuses them)`);
    const labels: Record<string, string> = {};
    if (rawLabels) {
      let s = rawLabels.slice(1, -1);
      while (s.length) {
        const lm = /^([^=]+)="((?:[^"\\\n]|\\["\\n])*)"(,|$)/.exec(s);
        if (!lm) throw new Error(`${where}: bad labels '${rawLabels}'`);
        if (!LABEL.test(lm[1]) || lm[1].startsWith("__")) throw new Error(`${where}: bad label name '${lm[1]}'`);
        if (lm[1] in labels) throw new Error(`${where}: label ${lm[1]} given twice`);
        labels[lm[1]] = lm[2].replace(/\\(["\\n])/g, (_, c) => (c === "n" ? "\n" : c));
        s = s.slice(lm[0].length);
        if (lm[3] === "," && s === "") break;
      }
    }
    if (name !== current) {
      if (closed.has(name) || (families.get(name)?.samples.length ?? 0) > 0) throw new Error(`${where}: samples of ${name} are not together`);
      if (current !== "") closed.add(current);
      current = name;
    }
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(key)) throw new Error(`${where}: series ${key} given twice`);
    series.add(key);
    family(name).samples.push({ name, labels, value: parseValue(value, where) });
  });
  return families;
}

/** The value of one series; throws when it is not there. */
export function valueOf(fams: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const s = fams.get(name)?.samples.find((x) => JSON.stringify(Object.entries(x.labels).sort()) === JSON.stringify(Object.entries(labels).sort()));
  if (!s) throw new Error(`no series ${name}${JSON.stringify(labels)}`);
  return s.value;
}
