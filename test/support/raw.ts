// Raw HTTP over a TCP socket, for what well-behaved clients refuse to send (smuggling, bad framing).
import net from "node:net";

export interface RawResult {
  text: string;
  /** true when the server closed the connection (as it must after a framing error). */
  closed: boolean;
}

/** Writes `payload` and collects everything until the server closes or `idleMs` passes with no data. */
export function rawExchange(port: number, payload: string | Buffer, idleMs = 1500, host = "127.0.0.1"): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, host);
    let text = "";
    let timer: NodeJS.Timeout;
    const done = (closed: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ text, closed });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => done(false), idleMs);
    };
    sock.on("connect", () => {
      sock.write(payload);
      arm();
    });
    sock.on("data", (d) => {
      text += d.toString("latin1");
      arm();
    });
    sock.on("end", () => done(true));
    sock.on("close", () => done(true));
    sock.on("error", (e) => ((e as NodeJS.ErrnoException).code === "ECONNRESET" ? done(true) : reject(e)));
  });
}

/** Status codes of every response in a raw exchange, in order (responses may follow a body without a line break). */
export const statusOf = (raw: string): number[] => [...raw.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
