// Terminal of both chains: pick an endpoint, send through its undici pool, stream the response back.
// Owns passive health (eject on refuse/reset) and the keep-alive race retry (once, on a fresh connection).
import type { Dispatcher } from "undici";
import { MeshError, classifyUpstreamError } from "../../errors.js";
import type { Exchange, Next, Reply } from "../chain.js";
import { stripHopByHop } from "../headers.js";
import type { EndpointState } from "../upstream/endpoint-state.js";
import type { Upstreams } from "../upstream/pools.js";

const STALE_SOCKET = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED"]);
const EJECTING = new Set(["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT", "EPIPE"]);

const errCode = (err: unknown): string => (err as { code?: string })?.code ?? (err as { cause?: { code?: string } })?.cause?.code ?? "";

export const forward = (upstreams: Upstreams): Next => async (ex) => {
  const target = ex.target;
  if (!target) throw new MeshError("INTERNAL", "no target chosen before forward");
  const set = target.app ? upstreams.appSet() : upstreams.endpointSet(target.backend, target.subset);
  if (!set) throw new MeshError("UNKNOWN_SERVICE", `No endpoints known for "${target.backend}${target.subset ? `/${target.subset}` : ""}".`);
  if (set.states.length === 0) throw new MeshError("NO_HEALTHY_ENDPOINT", `Backend "${target.backend}" has no endpoints.`);
  const now = Date.now();
  const state = set.balancer.pick(set.states, now);
  if (!state) throw new MeshError("NO_HEALTHY_ENDPOINT", `All ${set.states.length} endpoints of "${target.backend}" are ejected.`);
  const up = upstreams.get(state.key)!;
  ex.notes.endpoint = state.key;
  try {
    return await send(up.dispatcher, state, ex);
  } catch (err) {
    const code = errCode(err);
    // Keep-alive race: the upstream closed an idle socket as we reused it, before any response byte. Not the
    // endpoint's fault (no ejection yet): retry once on a fresh connection when no body byte left (a streamed
    // body, idempotent or not, cannot be replayed without buffering it).
    const bodyUnsent = ex.body === null || ex.body.readableDidRead === false;
    if (STALE_SOCKET.has(code) && bodyUnsent && !ex.signal.aborted) {
      const fresh = upstreams.fresh(state.key);
      if (fresh) {
        ex.notes.staleSocketRetry = true;
        try {
          return await send(fresh, state, ex, () => void fresh.close().catch(() => {}));
        } catch (err2) {
          void fresh.close().catch(() => {});
          // A fresh connection that dies too ("other side closed" or a reset) is the endpoint's fault: eject.
          throw failure(err2, state, set.backend.baseEjectionMs, set.backend.maxEjectionMs, STALE_SOCKET.has(errCode(err2)));
        }
      }
    }
    throw failure(err, state, set.backend.baseEjectionMs, set.backend.maxEjectionMs);
  }
};

function failure(err: unknown, state: EndpointState, baseMs: number, maxMs: number, eject = false): MeshError {
  if (eject || EJECTING.has(errCode(err))) state.eject(Date.now(), baseMs, maxMs);
  return classifyUpstreamError(err);
}

async function send(dispatcher: Dispatcher, state: EndpointState, ex: Exchange, onDone?: () => void): Promise<Reply> {
  state.inflight++;
  const t0 = performance.now();
  let res: Dispatcher.ResponseData;
  try {
    res = await dispatcher.request({
      path: ex.path,
      method: ex.method as Dispatcher.HttpMethod,
      headers: ex.headers as Record<string, string | string[]>,
      body: ex.body,
      signal: ex.signal,
      ...(ex.tryTimeoutMs ? { headersTimeout: ex.tryTimeoutMs } : {}),
    });
  } catch (err) {
    state.inflight--;
    throw err;
  }
  state.observeLatency(performance.now() - t0, Date.now());
  state.recordSuccess();
  const done = () => {
    state.inflight--;
    onDone?.();
  };
  res.body.once("close", done);
  const headers = stripHopByHop(res.headers as Record<string, string | string[] | undefined>);
  return { status: res.statusCode, headers, body: res.body, trailers: res.trailers as Record<string, string | string[] | undefined> };
}
