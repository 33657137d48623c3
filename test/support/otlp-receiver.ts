// A real OTLP/HTTP receiver on loopback for tests: decodes protobuf (gzip or not) spans and metrics, records
// request headers, and can misbehave on purpose (fail with a status and Retry-After, or blackhole requests).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { decodeMetrics, decodeSpans, otlpBody, type DecodedMetric, type DecodedSpan } from "../../src/telemetry/otlp-decode.js";

export type ReceiverMode = { kind: "ok" } | { kind: "fail"; status: number; retryAfter?: string } | { kind: "blackhole" };

export interface OtlpReceiver {
  url: string;
  port: number;
  spans: DecodedSpan[];
  metrics: DecodedMetric[][];
  requests: { path: string; headers: http.IncomingHttpHeaders; at: number; status: number }[];
  mode: ReceiverMode;
  /** Resolves once at least `n` spans matching `filter` arrived (or rejects after the timeout). */
  waitForSpans(n: number, filter?: (s: DecodedSpan) => boolean, timeoutMs?: number): Promise<DecodedSpan[]>;
  waitForRequests(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const r: Omit<OtlpReceiver, "url" | "port" | "close"> & { waiters: (() => void)[] } = {
    spans: [],
    metrics: [],
    requests: [],
    mode: { kind: "ok" },
    waiters: [],
    async waitForSpans(n, filter = () => true, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = r.spans.filter(filter);
        if (got.length >= n) return got;
        if (Date.now() > deadline) throw new Error(`expected ${n} spans, got ${got.length}: ${JSON.stringify(r.spans.map((s) => [s.name, s.resource["service.name"]]))}`);
        await new Promise<void>((res) => {
          r.waiters.push(res);
          setTimeout(res, 100).unref();
        });
      }
    },
    async waitForRequests(n, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (r.requests.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} export requests, got ${r.requests.length}`);
        await new Promise((res) => setTimeout(res, 25));
      }
    },
  };
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const mode = r.mode;
      const status = mode.kind === "fail" ? mode.status : mode.kind === "blackhole" ? 0 : 200;
      r.requests.push({ path: req.url ?? "", headers: req.headers, at: Date.now(), status });
      if (mode.kind === "blackhole") return void held.push(res);
      if (mode.kind === "fail") {
        res.writeHead(mode.status, mode.retryAfter ? { "retry-after": mode.retryAfter } : {});
        return void res.end();
      }
      void otlpBody(Buffer.concat(chunks), req.headers["content-encoding"]).then(
        (body) => {
          if (req.url === "/v1/traces") r.spans.push(...decodeSpans(body));
          else if (req.url === "/v1/metrics") r.metrics.push(decodeMetrics(body));
          res.writeHead(200, { "content-type": "application/x-protobuf" });
          res.end();
          for (const w of r.waiters.splice(0)) w();
        },
        (err) => {
          res.writeHead(400);
          res.end(String(err));
        },
      );
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(r, {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((ok) => {
        for (const h of held) h.destroy();
        server.closeAllConnections();
        server.close(() => ok());
      }),
  });
}
