// Optional on-disk segments: every accepted record appended as a JSON line to the current segment file, which
// rolls by size and age; whole segments are deleted oldest first past the size or age retention. On start the
// newest segments are replayed into memory (up to the in-memory caps). Writes are async and bounded: when the
// disk falls behind, records are dropped and counted rather than queued without limit.
import { createReadStream } from "node:fs";
import { appendFile, mkdir, readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import readline from "node:readline";

export interface SegmentOptions {
  dir: string;
  segmentBytes: number;
  segmentMs: number;
  retentionBytes: number;
  retentionMs: number;
  maxPendingBytes: number;
}

export type SegmentLine = { t: "span" | "log" | "metric"; r: unknown };

const NAME = /^segment-(\d{13})-(\d+)\.jsonl$/;

export class Segments {
  private current = "";
  private currentBytes = 0;
  private currentStarted = 0;
  private seq = 0;
  private pending: string[] = [];
  private pendingBytes = 0;
  private flushing: Promise<void> | undefined;
  dropped = 0;
  written = 0;
  errors = 0;
  constructor(readonly opts: SegmentOptions) {}

  async open(): Promise<void> {
    await mkdir(this.opts.dir, { recursive: true });
    await this.enforceRetention();
  }

  append(line: SegmentLine): void {
    const s = JSON.stringify(line) + "\n";
    if (this.pendingBytes + s.length > this.opts.maxPendingBytes) {
      this.dropped++;
      return;
    }
    this.pending.push(s);
    this.pendingBytes += s.length;
    this.flushing ??= this.flush().finally(() => (this.flushing = undefined));
  }

  private async flush(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending.join("");
      const n = this.pending.length;
      this.pending = [];
      this.pendingBytes = 0;
      const now = Date.now();
      if (!this.current || this.currentBytes >= this.opts.segmentBytes || now - this.currentStarted >= this.opts.segmentMs) {
        this.current = path.join(this.opts.dir, `segment-${now}-${this.seq++}.jsonl`);
        this.currentBytes = 0;
        this.currentStarted = now;
        await this.enforceRetention().catch(() => this.errors++);
      }
      try {
        await appendFile(this.current, batch);
        this.currentBytes += Buffer.byteLength(batch);
        this.written += n;
      } catch {
        this.errors++;
        this.dropped += n;
      }
    }
  }

  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  async list(): Promise<{ file: string; started: number; bytes: number }[]> {
    const names = (await readdir(this.opts.dir).catch(() => [] as string[])).filter((n) => NAME.test(n));
    const out = [];
    for (const n of names) {
      const m = NAME.exec(n)!;
      const st = await stat(path.join(this.opts.dir, n)).catch(() => undefined);
      if (st) out.push({ file: path.join(this.opts.dir, n), started: Number(m[1]), bytes: st.size, seq: Number(m[2]) });
    }
    return out.sort((a, b) => a.started - b.started || a.seq - b.seq);
  }

  /** Deletes whole segments, oldest first, while over the size retention or past the age retention. */
  async enforceRetention(now = Date.now()): Promise<number> {
    const segs = await this.list();
    let total = segs.reduce((a, s) => a + s.bytes, 0);
    let removed = 0;
    for (const s of segs) {
      if (s.file === this.current) break;
      if (total <= this.opts.retentionBytes && now - s.started <= this.opts.retentionMs) break;
      await rm(s.file, { force: true });
      total -= s.bytes;
      removed++;
    }
    return removed;
  }

  /** Replays stored lines oldest first; bad lines (a torn write at a crash) are skipped. */
  async replay(onLine: (l: SegmentLine) => void): Promise<number> {
    let n = 0;
    for (const s of await this.list()) {
      const rl = readline.createInterface({ input: createReadStream(s.file), crlfDelay: Infinity });
      for await (const text of rl) {
        try {
          onLine(JSON.parse(text) as SegmentLine);
          n++;
        } catch {}
      }
    }
    return n;
  }
}
