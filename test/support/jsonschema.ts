// A small JSON Schema (2020-12) validator for the subset our event schema uses:
// type, properties, required, additionalProperties (false), enum, const,
// pattern, items, minItems, minimum, $ref to "#/$defs/NAME". Any other
// keyword is an error (so a schema never silently relies on something this
// validator skips); annotations ($schema, $id, title, description, $defs) are
// ignored. Returns the list of problems ("PATH: what"), empty when valid.
type Schema = Record<string, unknown>;

const ANNOTATIONS = new Set(["$schema", "$id", "title", "description", "$defs"]);
const KNOWN = new Set(["type", "properties", "required", "additionalProperties", "enum", "const", "pattern", "items", "minItems", "minimum", "$ref"]);

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function validate(root: Schema, value: unknown): string[] {
  const problems: string[] = [];
  const walk = (s: Schema, v: unknown, at: string) => {
    for (const k of Object.keys(s)) if (!ANNOTATIONS.has(k) && !KNOWN.has(k)) throw new Error(`schema keyword '${k}' at ${at} is not supported by this validator`);
    if (typeof s.$ref === "string") {
      const m = /^#\/\$defs\/(.+)$/.exec(s.$ref);
      const target = m ? (root.$defs as Record<string, Schema> | undefined)?.[m[1]] : undefined;
      if (!target) throw new Error(`unresolvable $ref ${s.$ref}`);
      walk(target, v, at);
    }
    if (s.type !== undefined) {
      const t = typeOf(v);
      const ok = s.type === t || (s.type === "number" && t === "integer");
      if (!ok) {
        problems.push(`${at}: expected ${s.type}, found ${t}`);
        return;
      }
    }
    if (s.const !== undefined && !same(s.const, v)) problems.push(`${at}: expected ${JSON.stringify(s.const)}, found ${JSON.stringify(v)}`);
    if (Array.isArray(s.enum) && !s.enum.some((e) => same(e, v))) problems.push(`${at}: ${JSON.stringify(v)} is not one of ${JSON.stringify(s.enum)}`);
    if (typeof s.pattern === "string" && typeof v === "string" && !new RegExp(s.pattern, "u").test(v)) problems.push(`${at}: ${JSON.stringify(v)} does not match ${s.pattern}`);
    if (typeof s.minimum === "number" && typeof v === "number" && v < s.minimum) problems.push(`${at}: ${v} < ${s.minimum}`);
    if (Array.isArray(v)) {
      if (typeof s.minItems === "number" && v.length < s.minItems) problems.push(`${at}: fewer than ${s.minItems} items`);
      if (s.items) v.forEach((x, i) => walk(s.items as Schema, x, `${at}[${i}]`));
    }
    if (typeOf(v) === "object") {
      const o = v as Record<string, unknown>;
      const props = (s.properties ?? {}) as Record<string, Schema>;
      for (const r of (s.required ?? []) as string[]) if (!(r in o)) problems.push(`${at}: missing ${r}`);
      for (const [k, x] of Object.entries(o)) {
        if (props[k]) walk(props[k], x, `${at}.${k}`);
        else if (s.additionalProperties === false) problems.push(`${at}: unexpected field ${k}`);
      }
    }
  };
  walk(root, value, "$");
  return problems;
}
