// Redaction for anything that leaves the process (/config, logs, dumps): secret-looking fields become "[redacted]",
// and so does the userinfo of any URL (http://user:pass@host).
const SECRET_KEY = /(token|secret|password|passwd|key|credential|authorization|cookie)$/i;
const FILE_REF = /File$/; // tokenFile, keyFile: paths are not secrets
const URL_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/i;

export function redact<T>(value: T): T {
  if (typeof value === "string") return (URL_USERINFO.test(value) ? value.replace(URL_USERINFO, "$1[redacted]@") : value) as T;
  if (Array.isArray(value)) return value.map(redact) as T;
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) && !FILE_REF.test(k) && typeof v !== "object" ? "[redacted]" : redact(v);
    return out as T;
  }
  return value;
}
