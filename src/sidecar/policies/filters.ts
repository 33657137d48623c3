// Route filters (Gateway API HTTPRoute): direct response, redirect, request/response header modifiers and URL
// rewrite, applied from the rule's compiled filters. Last in the admit slot, so limits and faults see the
// request as the client sent it.
import type { CompiledRule } from "../../config/compile/routes.js";
import type { HeaderEdits } from "../../config/compile/filters.js";
import type { HeaderMap, Policy, Reply } from "../chain.js";

export function applyHeaderEdits(headers: Record<string, string | string[] | undefined>, e: HeaderEdits): void {
  for (const [name, value] of e.set) headers[name] = value;
  for (const [name, value] of e.add) {
    const cur = headers[name];
    headers[name] = cur === undefined ? value : Array.isArray(cur) ? [...cur, value] : name === "set-cookie" ? [cur, value] : `${cur},${value}`;
  }
  for (const name of e.remove) delete headers[name];
}

const splitQuery = (path: string): [string, string] => {
  const q = path.indexOf("?");
  return q < 0 ? [path, ""] : [path.slice(0, q), path.slice(q)];
};

/** ReplacePrefixMatch: swap the matched prefix for the replacement, keeping the rest and the query. */
export function rewritePrefix(path: string, matched: string | undefined, replacement: string): string {
  const [p, query] = splitQuery(path);
  const prefix = matched === undefined || matched === "/" ? "" : matched;
  let rest = p.slice(prefix.length);
  let base = replacement;
  if (base.endsWith("/") && rest.startsWith("/")) rest = rest.slice(1);
  if (!base) base = "/";
  const joined = rest && !base.endsWith("/") && !rest.startsWith("/") ? `${base}/${rest}` : `${base}${rest}`;
  return `${joined || "/"}${query}`;
}

export const filters = (): Policy => async (ex, next) => {
  const rule = ex.notes.ruleRef as CompiledRule | undefined;
  const f = rule?.filters;
  if (!f) return next(ex);
  if (f.direct) {
    ex.notes.filter = "direct-response";
    const headers: Record<string, string> = { "content-type": "text/plain; charset=utf-8", "content-length": String(Buffer.byteLength(f.direct.body)) };
    if (f.response) applyHeaderEdits(headers, f.response);
    return { status: f.direct.status, headers, body: f.direct.body };
  }
  if (f.redirect) {
    const r = f.redirect;
    const [p, query] = splitQuery(ex.path);
    const scheme = r.scheme ?? (ex.headers["x-forwarded-proto"] === "https" ? "https" : "http");
    const host = r.hostname ?? ex.host;
    const port = r.port ?? portOf(ex.authority);
    const defaultPort = scheme === "https" ? 443 : 80;
    const location = `${scheme}://${host}${port && port !== defaultPort ? `:${port}` : ""}${r.path ?? p}${query}`;
    ex.notes.filter = "redirect";
    const headers: Record<string, string> = { location, "content-length": "0" };
    if (f.response) applyHeaderEdits(headers, f.response);
    return { status: r.statusCode, headers, body: null };
  }
  if (f.request) applyHeaderEdits(ex.headers as Record<string, string | string[] | undefined>, f.request);
  if (f.rewrite) {
    const w = f.rewrite;
    if (w.hostname) {
      ex.headers.host = w.hostname;
      ex.authority = w.hostname;
    }
    if (w.replaceFullPath !== undefined) ex.path = `${w.replaceFullPath}${splitQuery(ex.path)[1]}`;
    else if (w.replacePrefixMatch !== undefined) ex.path = rewritePrefix(ex.path, ex.notes.matchedPrefix as string | undefined, w.replacePrefixMatch);
  }
  if (!f.response) return next(ex);
  const reply: Reply = await next(ex);
  const headers = { ...(reply.headers as HeaderMap) } as Record<string, string | string[] | undefined>;
  applyHeaderEdits(headers, f.response);
  return { ...reply, headers };
};

function portOf(authority: string): number | undefined {
  const colon = authority.lastIndexOf(":");
  if (colon < 0 || authority.indexOf("]") > colon) return undefined;
  const n = Number(authority.slice(colon + 1));
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
