// Mirroring (Gateway API RequestMirror): a percentage of requests is copied to another backend, fire-and-forget.
// The copy never delays or changes the primary: it is sent only after the primary's body has passed through
// (teed, up to maxBodyBytes), its response is discarded, and at most maxConcurrent copies are in flight;
// anything beyond is dropped. Every copy is counted by result in outrigger_mirror_requests_total.
import { Transform, type Readable } from "node:stream";
import type { Dispatcher } from "undici";
import type { Counter } from "prom-client";
import type { CompiledRule } from "../../config/compile/routes.js";
import type { MirrorPlan } from "../../config/compile/filters.js";
import type { Exchange, Policy } from "../chain.js";
import type { Upstreams } from "../upstream/pools.js";

const MIRROR_TIMEOUT_MS = 5_000;

export class Mirrors {
  inflight = 0;

  constructor(private readonly upstreams: Upstreams, private readonly counter: Counter<"route" | "backend" | "result">) {}

  count(ex: Exchange, m: MirrorPlan, result: string): void {
    this.counter.inc({ route: String(ex.notes.route ?? "unknown"), backend: m.backend, result });
  }

  send(ex: Exchange, m: MirrorPlan, head: { method: string; path: string; headers: Record<string, string | string[]> }, body: Buffer | null): void {
    const set = this.upstreams.endpointSet(m.backend, m.subset);
    const state = set?.balancer.pick(set.states, Date.now());
    const up = state && this.upstreams.get(state.key);
    if (!up) return this.count(ex, m, "no_endpoint");
    this.inflight++;
    const headers: Record<string, string | string[]> = { ...head.headers, "x-outrigger-mirror": "1" };
    if (body) headers["content-length"] = String(body.length);
    up.dispatcher
      .request({ method: head.method as Dispatcher.HttpMethod, path: head.path, headers, body, headersTimeout: MIRROR_TIMEOUT_MS, bodyTimeout: MIRROR_TIMEOUT_MS })
      .then(
        async (res) => {
          await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
          this.count(ex, m, "sent");
        },
        () => this.count(ex, m, "failed"),
      )
      .finally(() => this.inflight--);
  }
}

export const mirror = (mirrors: Mirrors, random: () => number = Math.random): Policy => (ex, next) => {
  const m = (ex.notes.ruleRef as CompiledRule | undefined)?.filters.mirror;
  if (!m || random() >= m.fraction) return next(ex);
  if (mirrors.inflight >= m.maxConcurrent) {
    mirrors.count(ex, m, "dropped_concurrency");
    return next(ex);
  }
  ex.notes.mirror = m.backend;
  const head = { method: ex.method, path: ex.path, headers: { ...(ex.headers as Record<string, string | string[]>) } };
  delete head.headers["content-length"];
  delete head.headers["transfer-encoding"];
  if (!ex.body) {
    mirrors.send(ex, m, head, null);
    return next(ex);
  }
  const cl = Number(ex.headers["content-length"]);
  if (Number.isFinite(cl) && cl > m.maxBodyBytes) {
    mirrors.count(ex, m, "dropped_body_size");
    return next(ex);
  }
  // Tee: chunks pass to the primary untouched; copies are kept (up to the cap) and sent once the body ended.
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  const tee = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (!over) {
        size += chunk.length;
        if (size > m.maxBodyBytes) {
          over = true;
          chunks.length = 0;
        } else chunks.push(chunk);
      }
      cb(null, chunk);
    },
    flush(cb) {
      if (over) mirrors.count(ex, m, "dropped_body_size");
      else mirrors.send(ex, m, head, Buffer.concat(chunks));
      cb();
    },
  });
  const source = ex.body as Readable;
  source.on("error", (e) => tee.destroy(e));
  ex.body = source.pipe(tee);
  return next(ex);
};
