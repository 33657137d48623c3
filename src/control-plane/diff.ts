// Differences between two resource sets: which resources were added, removed or changed, and a line diff
// of each changed resource's YAML. Used by `apply --dry-run`, `diff` and the audit of rollbacks.
import { stringify } from "yaml";
import { stableStringify } from "../config/compile.js";
import type { AnyResource } from "../config/schema.js";

export const keyOf = (r: { kind: string; metadata: { name: string; namespace?: string | undefined } }) =>
  r.metadata.namespace ? `${r.kind}/${r.metadata.namespace}/${r.metadata.name}` : `${r.kind}/${r.metadata.name}`;

export interface ResourceChange {
  key: string;
  change: "added" | "removed" | "changed";
  /** Unified-style lines: "+ …", "- …", "  …" (changed resources only, context trimmed). */
  lines?: string[];
}

export function diffResources(before: readonly AnyResource[], after: readonly AnyResource[]): ResourceChange[] {
  const a = new Map(before.map((r) => [keyOf(r), r]));
  const b = new Map(after.map((r) => [keyOf(r), r]));
  const out: ResourceChange[] = [];
  for (const key of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(key);
    const y = b.get(key);
    if (!x) out.push({ key, change: "added", lines: toYaml(y!).map((l) => `+ ${l}`) });
    else if (!y) out.push({ key, change: "removed", lines: toYaml(x).map((l) => `- ${l}`) });
    else if (stableStringify(x) !== stableStringify(y)) out.push({ key, change: "changed", lines: lineDiff(toYaml(x), toYaml(y)) });
  }
  return out;
}

const toYaml = (r: AnyResource) => stringify(JSON.parse(stableStringify(r))).trimEnd().split("\n");

/**
 * Line diff by longest common subsequence, with two lines of context. Hand-written because resources are a
 * few dozen lines and the textbook LCS is shorter than the glue a diff library would need.
 */
export function lineDiff(a: string[], b: string[], context = 2): string[] {
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push(`  ${a[i]}`);
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) ops.push(`- ${a[i++]}`);
    else ops.push(`+ ${b[j++]}`);
  }
  const keep = ops.map((_, k) => ops.slice(Math.max(0, k - context), k + context + 1).some((o) => !o.startsWith("  ")));
  const out: string[] = [];
  ops.forEach((o, k) => {
    if (keep[k]) out.push(o);
    else if (out[out.length - 1] !== "  …") out.push("  …");
  });
  return out;
}
