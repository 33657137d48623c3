// Policy-test fixtures: a plan compiled from YAML text, and an Exchange built without a listener, so a policy
// can be run alone with a fake `next` (STYLE.md: a policy's test builds the policy alone).
import { Readable } from "node:stream";
import { compilePlan, type Plan } from "../../src/config/compile.js";
import { parseResources } from "../../src/config/load.js";
import type { Exchange, HeaderMap, Next, Outcome, Reply } from "../../src/sidecar/chain.js";

const SIDECAR = `apiVersion: outrigger.dev/v1alpha1
kind: Sidecar
metadata: { name: test }
spec: { service: test, version: v1, app: "127.0.0.1:1" }
`;

/** Compiles YAML documents into a Plan; a Sidecar resource is added unless the text has one. */
export function planFrom(yaml: string): Plan {
  const text = /kind:\s*Sidecar/.test(yaml) ? yaml : `${SIDECAR}---\n${yaml}`;
  return compilePlan(parseResources(text, "test.yaml").map((l) => l.resource), "test.yaml");
}

export interface FakeExchangeInit {
  method?: string;
  host?: string;
  path?: string;
  headers?: HeaderMap;
  body?: Readable | string | null;
  direction?: "inbound" | "outbound";
  peer?: { address: string; port: number; identity?: string };
  signal?: AbortSignal;
}

export function exchange(init: FakeExchangeInit = {}): Exchange & { ended: Outcome[] } {
  const host = init.host ?? "svc";
  const ended: Outcome[] = [];
  const body = typeof init.body === "string" ? Readable.from([Buffer.from(init.body)]) : (init.body ?? null);
  return {
    direction: init.direction ?? "outbound",
    method: init.method ?? "GET",
    host,
    authority: host,
    path: init.path ?? "/",
    headers: { host, ...(init.headers ?? {}) },
    body,
    peer: init.peer ?? { address: "127.0.0.1", port: 40000 },
    signal: init.signal ?? new AbortController().signal,
    requestId: "test",
    start: process.hrtime.bigint(),
    notes: {},
    onEnd: () => {},
    ended,
  };
}

export const ok = (status = 200, headers: Reply["headers"] = {}, body: Reply["body"] = null): Reply => ({ status, headers, body });

/** A `next` that records every exchange it saw and answers with `reply` (or what `fn` returns/throws). */
export function fakeNext(fn: (ex: Exchange, n: number) => Reply | Promise<Reply> = () => ok()): Next & { calls: Exchange[] } {
  const calls: Exchange[] = [];
  const next = (async (ex: Exchange) => {
    calls.push(ex);
    return fn(ex, calls.length);
  }) as Next & { calls: Exchange[] };
  next.calls = calls;
  return next;
}

/** Runs a list of policies in order over a fake next, the way compose() does. */
export function run(policies: ((ex: Exchange, next: Next) => Promise<Reply>)[], ex: Exchange, terminal: Next): Promise<Reply> {
  let next = terminal;
  for (let i = policies.length - 1; i >= 0; i--) {
    const p = policies[i]!;
    const inner = next;
    next = (e) => p(e, inner);
  }
  return next(ex);
}
