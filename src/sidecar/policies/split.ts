// Split: which backendRef of a rule a request takes. Weighted by default; with sessionAffinity the roll is a
// hash of a header or cookie, so the same client keeps landing on the same subset while weights are unchanged.
import type { CompiledRule, WeightedRef } from "../../config/compile/routes.js";
import type { HeaderMap } from "../chain.js";

/** Weighted choice over a rule's backendRefs; `roll` in [0, 1) lets sticky splits pass a hash instead of a random. */
export function pickRef(rule: CompiledRule, roll = Math.random()): WeightedRef | undefined {
  const refs = rule.refs;
  if (refs.length <= 1 || rule.totalWeight === 0) return refs[0];
  const x = roll * rule.totalWeight;
  const cum = rule.cumulative;
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < cum[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return refs[lo];
}

/** The affinity key of a request (header value or cookie value), or undefined when it carries none. */
export function affinityKey(rule: CompiledRule, headers: HeaderMap): string | undefined {
  const a = rule.affinity;
  if (!a) return undefined;
  if (a.header) {
    const v = headers[a.header];
    if (v !== undefined) return Array.isArray(v) ? v[0] : v;
  }
  if (a.cookie) return cookieValue(headers.cookie, a.cookie);
  return undefined;
}

export function cookieValue(header: string | string[] | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const text = Array.isArray(header) ? header.join("; ") : header;
  for (const part of text.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** FNV-1a (32 bit) of the key mapped onto [0, 1): cheap, stable across processes and restarts. */
export function stickyRoll(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Final avalanche (murmur3 fmix) so keys differing in the last character spread over the whole range.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** Picks the backendRef for a request: sticky when the rule has affinity and the request carries the key. */
export function chooseRef(rule: CompiledRule, headers: HeaderMap): { ref: WeightedRef | undefined; sticky: boolean } {
  if (rule.refs.length <= 1) return { ref: rule.refs[0], sticky: false };
  const key = affinityKey(rule, headers);
  return key === undefined ? { ref: pickRef(rule), sticky: false } : { ref: pickRef(rule, stickyRoll(key)), sticky: true };
}
