// Bounded label sets for one family of metrics: the first `cap` distinct label combinations get their own
// series; later ones collapse into one overflow set and are counted, so a hostile caller cannot grow /metrics.
export class LabelSets<T> {
  private readonly sets = new Map<string, T>();
  private overflowSet: T | undefined;

  constructor(
    private cap: number,
    private readonly build: (key: string, overflow: boolean) => T,
    private readonly onOverflow: () => void,
  ) {}

  get(key: string): T {
    const hit = this.sets.get(key);
    if (hit !== undefined) return hit;
    if (this.sets.size < this.cap) {
      const made = this.build(key, false);
      this.sets.set(key, made);
      return made;
    }
    this.onOverflow();
    return (this.overflowSet ??= this.build(key, true));
  }

  /** A config reload may change the cap; existing series stay. */
  resize(cap: number): void {
    this.cap = cap;
  }

  get size(): number {
    return this.sets.size;
  }
}
