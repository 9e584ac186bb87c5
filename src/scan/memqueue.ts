// The traversal queue of a --scan-once pass, kept in memory (store.ts uses it
// in place of the `pending` table). Order: last queued, first taken (depth
// first), and a path queued again keeps its place. Removal of one path, or of
// a whole subtree, costs time in proportion to what is removed, never to the
// queue's size:
// - the order lives in `list`, and a removed path leaves a hole (null) there
//   instead of shifting the rest; holes at the end are popped by take/peek,
//   and the list is compacted when more than half of it is holes, which is
//   O(1) amortised per removal (each compaction of n slots follows at least
//   n/2 removals);
// - `index` maps each path's key to its slot;
// - a trie of the queued paths by component finds a subtree's paths without
//   scanning the queue: removing the paths within a directory visits only the
//   trie nodes below it (every node there leads to a queued path, empty nodes
//   being pruned), so it costs the removed paths' lengths.
// `work` counts slots and trie nodes touched, for the tests' linearity checks.
import { pathKey, type PathBytes } from "./paths.ts";

const SLASH = 0x2f;

interface Node {
  parent: Node | null;
  name: string;
  kids: Map<string, Node> | null;
  /** The key of the path queued at this node, if any. */
  key: string | null;
}

/** A path's components from its key (latin1 keeps '/' as itself): "/a" is "", "a". */
function components(key: string): string[] {
  return key.split("/");
}

export class MemQueue {
  private list: (PathBytes | null)[] = [];
  private holes = 0;
  private readonly index = new Map<string, number>();
  private root: Node = { parent: null, name: "", kids: null, key: null };
  /** Slots and trie nodes touched so far. */
  work = 0;

  get size(): number {
    return this.index.size;
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  /** Queue a path at the end unless it is queued already. */
  push(path: PathBytes, key = pathKey(path)): void {
    if (this.index.has(key)) return;
    this.index.set(key, this.list.length);
    this.list.push(path);
    let n = this.root;
    for (const c of components(key)) {
      this.work++;
      n.kids ??= new Map();
      let k = n.kids.get(c);
      if (!k) n.kids.set(c, (k = { parent: n, name: c, kids: null, key: null }));
      n = k;
    }
    n.key = key;
  }

  /** The last path queued (still queued), or null. */
  peek(): PathBytes | null {
    this.trimEnd();
    return this.list.length === 0 ? null : this.list[this.list.length - 1];
  }

  /** Remove and return the last path queued, or null. */
  take(): PathBytes | null {
    const p = this.peek();
    if (p) this.remove(pathKey(p));
    return p;
  }

  /** Remove a path if it is queued. */
  remove(key: string): void {
    const i = this.index.get(key);
    if (i === undefined) return;
    let n: Node | undefined = this.root;
    for (const c of components(key)) {
      this.work++;
      n = n.kids?.get(c);
      if (!n) throw new Error("memqueue: a queued path is missing from the trie");
    }
    n.key = null;
    this.prune(n);
    this.vacate(key, i);
  }

  /** Remove every queued path within dir (dir itself included), as paths.ts's isWithin. */
  removeWithin(dir: PathBytes): void {
    if (this.index.size === 0) return;
    if (dir.length === 1 && dir[0] === SLASH) {
      // "/" holds every path that starts with '/': all below the root's "" component but "" itself
      const top = this.root.kids?.get("");
      if (!top?.kids) return;
      for (const k of [...top.kids.values()]) this.dropNode(k);
      this.prune(top);
      return;
    }
    let n: Node | undefined = this.root;
    for (const c of components(pathKey(dir))) {
      this.work++;
      n = n.kids?.get(c);
      if (!n) return;
    }
    this.dropNode(n);
  }

  clear(): void {
    this.list = [];
    this.holes = 0;
    this.index.clear();
    this.root = { parent: null, name: "", kids: null, key: null };
  }

  /** Whether the structures agree (tests). */
  consistent(): boolean {
    let live = 0;
    for (let i = 0; i < this.list.length; i++) {
      const p = this.list[i];
      if (p === null) continue;
      live++;
      if (this.index.get(pathKey(p)) !== i) return false;
    }
    const count = (n: Node): number => {
      let c = n.key !== null ? 1 : 0;
      if (n.kids) for (const k of n.kids.values()) {
        const below = count(k);
        if (below === 0) return -1e9; // an empty node was left behind
        c += below;
      }
      return c;
    };
    return live === this.index.size && live + this.holes === this.list.length && count(this.root) === live;
  }

  /** Detach a node and forget every path queued in its subtree. */
  private dropNode(n: Node): void {
    const stack = [n];
    while (stack.length > 0) {
      const x = stack.pop()!;
      this.work++;
      if (x.key !== null) this.vacate(x.key, this.index.get(x.key)!);
      if (x.kids) for (const k of x.kids.values()) stack.push(k);
    }
    n.key = null;
    n.kids = null;
    this.prune(n);
  }

  /** Unlink n and its ancestors while they hold nothing. */
  private prune(n: Node): void {
    let x: Node = n;
    while (x.parent && x.key === null && (!x.kids || x.kids.size === 0)) {
      this.work++;
      x.parent.kids!.delete(x.name);
      x = x.parent;
    }
  }

  private vacate(key: string, i: number): void {
    this.index.delete(key);
    this.list[i] = null;
    this.holes++;
    this.work++;
    if (this.holes > 1024 && this.holes * 2 > this.list.length) this.compact();
  }

  private trimEnd(): void {
    while (this.list.length > 0 && this.list[this.list.length - 1] === null) {
      this.list.pop();
      this.holes--;
      this.work++;
    }
  }

  private compact(): void {
    let w = 0;
    for (let r = 0; r < this.list.length; r++) {
      const p = this.list[r];
      this.work++;
      if (p === null) continue;
      if (w !== r) this.index.set(pathKey(p), w);
      this.list[w++] = p;
    }
    this.list.length = w;
    this.holes = 0;
  }
}
