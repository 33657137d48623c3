// Request-path normalization before authorization matching, as Envoy (normalize_path, merge_slashes,
// path_with_escaped_slashes_action) and Istio do it, so /admin/../admin, /%2e%2e/, //admin cannot slip past a rule.
// Hand-written because no maintained library implements Envoy's exact rules; each step below names its source.

export type EscapedSlashes = "reject" | "keep";

export interface PathNormalization {
  /** `%2F` / `%5C` (encoded "/" and "\"): reject the request (default) or keep them encoded (never decoded). */
  escapedSlashes: EscapedSlashes;
  /** Match paths case-insensitively (default true: a deny on /admin also covers /ADMIN). */
  caseInsensitive: boolean;
}

export type Normalized = { ok: true; path: string } | { ok: false; reason: string };

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const HEX = /^[0-9A-Fa-f]{2}$/;

/** Normalizes the path part (no query) of an origin-form target. */
export function normalizePath(raw: string, opts: PathNormalization): Normalized {
  // 1. Percent-decoding of unreserved characters only (RFC 3986 §6.2.2.2); other escapes are kept, hex upper-cased.
  //    %2F and %5C are ambiguous (a path separator to some apps, data to others): Envoy's
  //    path_with_escaped_slashes_action. We reject by default; "keep" leaves them encoded so they never match "/".
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === "%") {
      const hex = raw.slice(i + 1, i + 3);
      if (!HEX.test(hex)) return { ok: false, reason: `invalid percent-encoding "${raw.slice(i, i + 3)}" in path` };
      const up = hex.toUpperCase();
      if (up === "2F" || up === "5C") {
        if (opts.escapedSlashes === "reject") return { ok: false, reason: "encoded slash or backslash (%2F, %5C) in path" };
        out += `%${up}`;
      } else {
        const ch = String.fromCharCode(parseInt(hex, 16));
        out += UNRESERVED.test(ch) ? ch : `%${up}`;
      }
      i += 2;
    } else if (c === "\\") out += "/"; // as the URL standard (and Envoy's canonicalizer) treat backslash in paths
    else out += c;
  }
  if (out[0] !== "/") out = `/${out}`;
  // 2. Merge slashes (Envoy merge_slashes).
  out = out.replace(/\/{2,}/g, "/");
  // 3. Remove dot segments (RFC 3986 §5.2.4; Envoy normalize_path).
  out = removeDotSegments(out);
  return { ok: true, path: out };
}

export function removeDotSegments(path: string): string {
  const segs = path.split("/");
  const stack: string[] = [];
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i]!;
    if (s === "..") stack.pop();
    else if (s !== ".") stack.push(s);
  }
  const last = segs[segs.length - 1];
  // A trailing "." or ".." leaves a directory: /a/b/.. -> /a/
  if (last === "." || last === "..") stack.push("");
  return `/${stack.join("/")}`;
}
