// Local limiter store: per-key algorithm state in a bounded LRU (a Map in recency order), evictions counted.
import { decide, type Algorithm, type Decision, type Limit } from "./algorithms.js";

export class LocalStore {
  private readonly states = new Map<string, unknown>();
  evicted = 0;

  constructor(readonly algorithm: Algorithm, readonly maxKeys: number, private readonly onEvict?: () => void) {}

  get size(): number {
    return this.states.size;
  }

  take(key: string, limit: Limit, now: number): Decision {
    const prev = this.states.get(key);
    const { state, d } = decide(this.algorithm, prev, limit, now);
    if (prev !== undefined) this.states.delete(key); // re-insert: most recently used goes last
    if (state !== undefined) this.states.set(key, state);
    if (this.states.size > this.maxKeys) {
      const oldest = this.states.keys().next().value as string;
      this.states.delete(oldest);
      this.evicted++;
      this.onEvict?.();
    }
    return d;
  }
}
