// Optional forwarding: every accepted OTLP request body is re-sent, unchanged (same encoding and compression), to
// another OTLP/HTTP endpoint (Jaeger, Tempo, an OpenTelemetry Collector). Bounded queue by bytes; retries with
// back-off, honouring 429/503 Retry-After; what cannot be delivered is dropped and counted, never blocking ingest.
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import type { Signal } from "./otlp/decode.js";

export interface ForwardOptions {
  endpoint: string;
  headers: Record<string, string>;
  maxQueueBytes: number;
  maxAttempts: number;
}

interface Item {
  signal: Signal;
  body: Buffer;
  contentType: string;
  contentEncoding: string | undefined;
}

export class Forwarder {
  private queue: Item[] = [];
  private queueBytes = 0;
  private running: Promise<void> | undefined;
  private closed = false;
  forwarded = 0;
  dropped = 0;
  failures = 0;
  constructor(readonly opts: ForwardOptions) {}

  enqueue(item: Item): void {
    if (this.closed) return;
    if (this.queueBytes + item.body.length > this.opts.maxQueueBytes) {
      this.dropped++;
      return;
    }
    this.queue.push(item);
    this.queueBytes += item.body.length;
    this.running ??= this.run().finally(() => (this.running = undefined));
  }

  private async run(): Promise<void> {
    while (this.queue.length && !this.closed) {
      const item = this.queue[0]!;
      const ok = await this.send(item);
      this.queue.shift();
      this.queueBytes -= item.body.length;
      if (ok) this.forwarded++;
      else this.dropped++;
    }
  }

  private async send(item: Item): Promise<boolean> {
    const url = this.opts.endpoint.replace(/\/+$/, "") + `/v1/${item.signal}`;
    for (let attempt = 1; attempt <= this.opts.maxAttempts && !this.closed; attempt++) {
      let wait = Math.min(5000, 200 * 2 ** (attempt - 1));
      try {
        const res = await request(url, {
          method: "POST",
          headers: { ...this.opts.headers, "content-type": item.contentType, ...(item.contentEncoding ? { "content-encoding": item.contentEncoding } : {}) },
          body: item.body,
          headersTimeout: 10_000,
          bodyTimeout: 10_000,
        });
        await res.body.dump();
        if (res.statusCode < 300) return true;
        if (![429, 502, 503, 504].includes(res.statusCode)) return false;
        const ra = Number(res.headers["retry-after"]);
        if (Number.isFinite(ra) && ra > 0) wait = Math.min(30_000, ra * 1000);
      } catch {}
      this.failures++;
      if (attempt < this.opts.maxAttempts) await sleep(wait, undefined, { ref: false });
    }
    return false;
  }

  get pendingBytes(): number {
    return this.queueBytes;
  }

  async close(): Promise<void> {
    this.closed = true;
    // A send in back-off is abandoned: shutdown never waits on a slow or absent downstream.
    await Promise.race([this.running, sleep(1000, undefined, { ref: false })]);
  }
}
