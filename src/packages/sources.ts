// apt's source entries: one-line sources.list ("deb [opt=v ...] URI SUITE
// [COMPONENT...]") and deb822 .sources stanzas (Types, URIs, Suites,
// Components, Signed-By), and where apt keeps each entry's files in
// Dir::State::Lists (its URItoFileName: scheme and credentials dropped,
// unsafe characters %-quoted, "/" turned into "_"). Pure.
//
// Signed-By: key file paths, or (deb822) an inline armored key block; an entry
// without it is checked with the keyrings of Dir::Etc::Trusted(Parts), as apt does.
import { parseStanzas } from "./deb822.ts";

export interface SourceEntry {
  uri: string; // without a trailing slash
  suite: string;
  components: string[];
  /** key file paths named by signed-by */
  keyFiles: string[];
  /** inline key block (deb822 Signed-By holding the key itself) */
  inlineKey: string | null;
  /** where the entry came from: FILE:LINE */
  from: string;
}

function splitList(v: string): string[] {
  return v.split(/[\s,]+/).filter(Boolean);
}

/** One-line sources.list text. Only "deb" lines (deb-src carries no binaries). */
export function parseSourcesList(text: string, file: string): SourceEntry[] {
  const out: SourceEntry[] = [];
  text.split("\n").forEach((raw, i) => {
    let line = raw.replace(/#.*$/, "").trim();
    if (!line.startsWith("deb ") && !line.startsWith("deb\t")) return;
    line = line.slice(3).trim();
    const opts = new Map<string, string>();
    if (line.startsWith("[")) {
      const end = line.indexOf("]");
      if (end < 0) return;
      for (const kv of line.slice(1, end).trim().split(/\s+/)) {
        const eq = kv.indexOf("=");
        if (eq > 0) opts.set(kv.slice(0, eq).toLowerCase(), kv.slice(eq + 1));
      }
      line = line.slice(end + 1).trim();
    }
    const words = line.split(/\s+/);
    if (words.length < 2) return;
    out.push({
      uri: words[0].replace(/\/+$/, ""), suite: words[1], components: words.slice(2),
      keyFiles: splitList(opts.get("signed-by") ?? "").filter((k) => k.startsWith("/")), inlineKey: null, from: `${file}:${i + 1}`,
    });
  });
  return out;
}

/** deb822 .sources text. Enabled: no disables an entry. */
export function parseSourcesDeb822(text: string, file: string): SourceEntry[] {
  const out: SourceEntry[] = [];
  parseStanzas(text).forEach((s, i) => {
    if (!splitList(s.get("types") ?? "").includes("deb")) return;
    if ((s.get("enabled") ?? "yes").toLowerCase() === "no") return;
    const signed = s.get("signed-by") ?? "";
    const inline = signed.includes("-----BEGIN PGP PUBLIC KEY BLOCK-----") ? signed : null;
    const keyFiles = inline ? [] : splitList(signed).filter((k) => k.startsWith("/"));
    for (const uri of splitList(s.get("uris") ?? "")) {
      for (const suite of splitList(s.get("suites") ?? "")) {
        out.push({ uri: uri.replace(/\/+$/, ""), suite, components: splitList(s.get("components") ?? ""), keyFiles, inlineKey: inline, from: `${file}:stanza ${i + 1}` });
      }
    }
  });
  return out;
}

const UNSAFE = new Set("\\|{}[]<>\"^~_=!@#$%^&*");

/** apt's URItoFileName. */
export function uriToFileName(uri: string): string {
  let rest = uri;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:(\/\/)?/.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length);
  // credentials: user[:pass]@host (only before the first slash)
  const slash = rest.indexOf("/");
  const at = rest.lastIndexOf("@", slash < 0 ? rest.length : slash);
  if (scheme?.[1] && at >= 0) rest = rest.slice(at + 1);
  let out = "";
  for (const ch of Buffer.from(rest, "utf8")) {
    const c = String.fromCharCode(ch);
    out += ch <= 0x20 || ch >= 0x7f || UNSAFE.has(c) ? `%${ch.toString(16).padStart(2, "0")}` : c;
  }
  return out.replace(/\//g, "_");
}

/** The lists-directory name prefix of an entry's Release files ("..._dists_SUITE_"); flat repositories (SUITE ends in "/") differ. */
export function releasePrefix(e: SourceEntry): string {
  return uriToFileName(e.suite.endsWith("/") ? `${e.uri}/${e.suite}` : `${e.uri}/dists/${e.suite}/`);
}

/** A clear name for an entry in reports: "URI SUITE". */
export function entryName(e: SourceEntry): string {
  return `${e.uri} ${e.suite}`;
}
