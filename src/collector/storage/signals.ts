// Log records and metric points kept in memory as bounded rings (oldest overwritten, overwrites counted).
export class Ring<T> {
  private readonly items: (T | undefined)[];
  private next = 0;
  size = 0;
  overwritten = 0;
  constructor(readonly capacity: number) {
    this.items = new Array(capacity);
  }

  push(item: T): void {
    if (this.size === this.capacity) this.overwritten++;
    else this.size++;
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Newest first, stopping at `limit` matches. */
  find(pred: (t: T) => boolean, limit: number): T[] {
    const out: T[] = [];
    for (let i = 1; i <= this.size && out.length < limit; i++) {
      const item = this.items[(this.next - i + this.capacity) % this.capacity]!;
      if (pred(item)) out.push(item);
    }
    return out;
  }
}
