// A sidecar's subscription to the control plane: one server-sent-events stream, resumed with Last-Event-ID,
// reconnected with exponential back-off and full jitter, failing over through the list of replica URLs.
// Parsed by hand because EventSource cannot send an Authorization header and the format is four fields.
import { request } from "undici";
import type { Snapshot } from "../push.js";
import { PING_MS } from "../push.js";

export interface SubscriptionOptions {
  urls: string[];
  token: () => string | undefined;
  service: string;
  instance: string;
  /** Applies one snapshot; called one at a time, in order. */
  onSnapshot(snap: Snapshot): Promise<void>;
  /** Connection state changes (for staleness, readiness and logs). */
  onState(s: { connected: boolean; url: string; error?: string }): void;
  /** Any bytes from the server (events or pings): proof of contact. */
  onContact(): void;
  backoff?: { baseMs: number; capMs: number };
}

export class Subscription {
  private stopped = false;
  private index = 0;
  private lastEventId: string | undefined;
  private abort: AbortController | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  /** The replica currently streaming to us (ACKs and heartbeats go there first). */
  current: string | undefined;

  constructor(private readonly o: SubscriptionOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { baseMs, capMs } = this.o.backoff ?? { baseMs: 100, capMs: 3_000 };
    let failures = 0;
    while (!this.stopped) {
      const url = this.o.urls[this.index % this.o.urls.length]!;
      let gotData = false;
      try {
        await this.stream(url, () => (gotData = true));
        this.o.onState({ connected: false, url, error: "stream ended" });
      } catch (err) {
        if (this.stopped) break;
        this.o.onState({ connected: false, url, error: (err as Error).message });
      }
      this.current = undefined;
      if (gotData) failures = 0;
      else {
        failures++;
        this.index++; // this replica did not serve us: try the next one
      }
      // Full jitter (AWS architecture blog): spreads reconnects of many sidecars after a replica dies.
      const delay = Math.random() * Math.min(capMs, baseMs * 2 ** Math.min(failures, 16));
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, delay).unref();
      });
    }
  }

  private async stream(base: string, onData: () => void): Promise<void> {
    this.abort = new AbortController();
    const token = this.o.token();
    const q = new URLSearchParams({ service: this.o.service, instance: this.o.instance });
    const res = await request(new URL(`/v1/subscribe?${q}`, base), {
      method: "GET",
      signal: this.abort.signal,
      headers: { accept: "text/event-stream", ...(token ? { authorization: `Bearer ${token}` } : {}), ...(this.lastEventId ? { "last-event-id": this.lastEventId } : {}) },
      headersTimeout: 5_000,
      // Pings arrive every PING_MS; three missed ones mean the replica is gone even if the socket is not closed.
      bodyTimeout: PING_MS * 3,
    });
    if (res.statusCode !== 200) {
      const text = await res.body.text().catch(() => "");
      let msg = `HTTP ${res.statusCode}`;
      try {
        msg = `${msg} ${(JSON.parse(text) as { error: { code: string; message: string } }).error.code}: ${(JSON.parse(text) as { error: { message: string } }).error.message}`;
      } catch {}
      throw new Error(msg);
    }
    this.current = base;
    this.o.onState({ connected: true, url: base });
    this.o.onContact();
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of res.body) {
      onData();
      this.o.onContact();
      buf += decoder.decode(chunk as Buffer, { stream: true });
      let end: number;
      while ((end = buf.indexOf("\n\n")) >= 0) {
        const frame = buf.slice(0, end);
        buf = buf.slice(end + 2);
        await this.dispatch(frame);
      }
      if (buf.length > 64 * 1024 * 1024) throw new Error("event larger than 64 MiB");
    }
  }

  private async dispatch(frame: string): Promise<void> {
    let event = "message";
    let id: string | undefined;
    const data: string[] = [];
    for (const line of frame.split("\n")) {
      if (!line || line.startsWith(":")) continue;
      const i = line.indexOf(":");
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "id") id = value;
      else if (field === "data") data.push(value);
    }
    if (event !== "config" || !data.length) return;
    const snap = JSON.parse(data.join("\n")) as Snapshot;
    await this.o.onSnapshot(snap);
    if (id) this.lastEventId = id;
  }
}
