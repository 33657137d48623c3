// A route rule's filters (Gateway API HTTPRoute filters) compiled once: header edits as arrays of lower-case
// names, rewrite/redirect/direct-response/mirror as plain records the filter policies apply without parsing.
import type { RouteRule } from "../kinds/route.js";

export interface HeaderEdits {
  set: [string, string][];
  add: [string, string][];
  remove: string[];
}

export interface MirrorPlan {
  backend: string;
  subset: string | undefined;
  /** 0..1 */
  fraction: number;
  maxConcurrent: number;
  maxBodyBytes: number;
}

export interface CompiledFilters {
  request?: HeaderEdits;
  response?: HeaderEdits;
  rewrite?: { hostname?: string; replacePrefixMatch?: string; replaceFullPath?: string };
  redirect?: { scheme?: string; hostname?: string; path?: string; port?: number; statusCode: number };
  direct?: { status: number; body: string };
  mirror?: MirrorPlan;
}

type Filter = NonNullable<RouteRule["filters"]>[number];
type Modifier = NonNullable<Filter["requestHeaderModifier"]>;

const edits = (m: Modifier): HeaderEdits => ({
  set: (m.set ?? []).map((h) => [h.name.toLowerCase(), h.value]),
  add: (m.add ?? []).map((h) => [h.name.toLowerCase(), h.value]),
  remove: (m.remove ?? []).map((n) => n.toLowerCase()),
});

export function compileFilters(rule: RouteRule): CompiledFilters {
  const out: CompiledFilters = {};
  for (const f of rule.filters ?? []) {
    switch (f.type) {
      case "RequestHeaderModifier":
        if (f.requestHeaderModifier) out.request = edits(f.requestHeaderModifier);
        break;
      case "ResponseHeaderModifier":
        if (f.responseHeaderModifier) out.response = edits(f.responseHeaderModifier);
        break;
      case "URLRewrite": {
        const u = f.urlRewrite ?? {};
        out.rewrite = {
          ...(u.hostname ? { hostname: u.hostname } : {}),
          ...(u.path?.type === "ReplacePrefixMatch" ? { replacePrefixMatch: u.path.replacePrefixMatch ?? "/" } : {}),
          ...(u.path?.type === "ReplaceFullPath" ? { replaceFullPath: u.path.replaceFullPath ?? "/" } : {}),
        };
        break;
      }
      case "RequestRedirect": {
        const r = f.requestRedirect ?? {};
        out.redirect = { ...r, statusCode: r.statusCode ?? 302 };
        break;
      }
      case "DirectResponse":
        if (f.directResponse) out.direct = { status: f.directResponse.status, body: f.directResponse.body ?? "" };
        break;
      case "RequestMirror": {
        const m = f.requestMirror;
        if (m)
          out.mirror = {
            backend: m.backendRef.name,
            subset: m.backendRef.subset,
            fraction: (m.percent ?? 100) / 100,
            maxConcurrent: m.maxConcurrent ?? 32,
            maxBodyBytes: m.maxBodyBytes ?? 64 * 1024,
          };
        break;
      }
    }
  }
  return out;
}
