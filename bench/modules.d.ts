// Minimal typings for the untyped packages the bench uses (autocannon fallback, http-proxy peer).
declare module "autocannon" {
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    headers?: Record<string, string>;
    overallRate?: number;
  }
  interface Result {
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    requests: { total: number };
    latency: { p50: number; p99: number };
  }
  function autocannon(opts: Options): Promise<Result>;
  export default autocannon;
}

declare module "http-proxy" {
  import type { Agent, IncomingMessage, ServerResponse } from "node:http";
  interface ProxyServer {
    web(req: IncomingMessage, res: ServerResponse, opts?: object, cb?: (err: Error) => void): void;
    on(event: "error", cb: (err: Error, req: IncomingMessage, res: ServerResponse) => void): this;
  }
  const httpProxy: { createProxyServer(opts: { target: string; agent?: Agent; xfwd?: boolean }): ProxyServer };
  export default httpProxy;
}
