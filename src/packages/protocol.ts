// apt's Pre-Install-Pkgs hook input, versions 2 and 3 (apt.conf(5)): the
// configuration dump and the package actions. Pure.
export interface HookAction {
  package: string;
  /** installed version before ("-" in the protocol: null) */
  oldVersion: string | null;
  newVersion: string | null;
  /** the .deb path, when the action unpacks one (not **CONFIGURE** / **REMOVE**) */
  deb: string | null;
}

export interface HookInput {
  version: number;
  /** configuration items, keys lower-cased, values %-decoded */
  config: Map<string, string>;
  actions: HookAction[];
}

function unquote(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function decodeHookInput(text: string): HookInput {
  const lines = text.split("\n");
  const m = /^VERSION (\d+)$/.exec(lines[0] ?? "");
  if (!m) throw new Error("input is not apt's hook protocol (set DPkg::Tools::Options::<hook>::Version \"3\")");
  const version = Number(m[1]);
  if (version < 2 || version > 3) throw new Error(`hook protocol version ${version} not supported (2 or 3)`);
  const config = new Map<string, string>();
  let i = 1;
  for (; i < lines.length && lines[i] !== ""; i++) {
    const eq = lines[i].indexOf("=");
    if (eq > 0) config.set(lines[i].slice(0, eq).toLowerCase(), unquote(lines[i].slice(eq + 1)));
  }
  const actions: HookAction[] = [];
  for (i++; i < lines.length; i++) {
    const w = lines[i].split(" ");
    if (w.length < 5) continue;
    // v2: pkg old op new action; v3: pkg old oldarch oldma op new newarch newma action
    const [pkg, old, neu, action] = version === 3 && w.length >= 9 ? [w[0], w[1], w[5], w.slice(8).join(" ")] : [w[0], w[1], w[3], w.slice(4).join(" ")];
    actions.push({
      package: pkg, oldVersion: old === "-" ? null : old, newVersion: neu === "-" ? null : neu,
      deb: action.startsWith("**") ? null : action,
    });
  }
  return { version, config, actions };
}
