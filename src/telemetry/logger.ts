// Structured JSON logs (pino) for every Outrigger process: lifecycle lines here, access lines from the
// access-log policy. Writes go through an asynchronous destination (SonicBoom, buffered, flushed on exit),
// so logging never blocks the event loop on a slow stdout.
import pino, { type Logger } from "pino";

/** Header names whose values never reach a log line, whatever a config asks. */
export const ALWAYS_REDACTED = ["authorization", "proxy-authorization", "cookie", "set-cookie"];

export function createLogger(service: string, level = process.env.OUTRIGGER_LOG_LEVEL ?? "info"): Logger {
  return pino(
    {
      level,
      base: { service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          ...ALWAYS_REDACTED.flatMap((h) => [`req.headers.${h}`, `res.headers.${h}`, `headers.${h}`, `headers["${h}"]`]),
          "*.token",
          "*.secret",
          "*.password",
        ],
        censor: "[redacted]",
      },
    },
    pino.destination({ dest: 1, sync: false }),
  );
}
