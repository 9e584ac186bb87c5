// Defaults carried inside the binary: everything under etc/ (example config,
// systemd unit, the default logcheck-format rule tree). See embed-macro.ts.
import { etcTree } from "./embed-macro.ts" with { type: "macro" };

export const ETC: Record<string, string> = etcTree();

/** The embedded default rule tree as { "ignore.d.server/foo": text }. */
export function embeddedRules(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(ETC)) if (k.startsWith("logcheck/")) out[k.slice("logcheck/".length)] = v;
  return out;
}
