// Units used across config: durations ("250ms", "2s") and addresses ("host:port", "[::1]:port", "port").

export function parseDuration(text: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)$/.exec(text);
  if (!m) throw new Error(`invalid duration "${text}" (expected e.g. 250ms, 2s, 1m)`);
  const n = Number(m[1]);
  const unit = m[2];
  return unit === "ms" ? n : unit === "s" ? n * 1000 : unit === "m" ? n * 60_000 : n * 3_600_000;
}

export const durationOr = (text: string | undefined, fallbackMs: number) => (text === undefined ? fallbackMs : parseDuration(text));

export interface Address {
  host: string;
  port: number;
  /** host:port with IPv6 in brackets; stable key for pools and endpoint state. */
  key: string;
}

export function parseAddress(input: string | number, defaultHost = "127.0.0.1"): Address {
  const text = String(input);
  let host = defaultHost;
  let portText = text;
  const v6 = /^\[([0-9a-fA-F:.]+)\]:([0-9]+)$/.exec(text);
  if (v6) {
    host = v6[1]!;
    portText = v6[2]!;
  } else if (text.includes(":")) {
    const i = text.lastIndexOf(":");
    host = text.slice(0, i) || defaultHost;
    portText = text.slice(i + 1);
  }
  const port = Number(portText);
  if (!/^[0-9]{1,5}$/.test(portText) || port > 65535) throw new Error(`invalid address "${text}" (expected HOST:PORT or PORT)`);
  if (host === "localhost") host = "127.0.0.1";
  return { host, port, key: host.includes(":") ? `[${host}]:${port}` : `${host}:${port}` };
}
