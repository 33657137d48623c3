// Structured JSON logs (pino). Lifecycle lines here; access logs come from the telemetry policies.
import pino, { type Logger } from "pino";

export function createLogger(service: string, level = process.env.OUTRIGGER_LOG_LEVEL ?? "info"): Logger {
  return pino({
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ["req.headers.authorization", "req.headers.cookie", "*.token", "*.secret"], censor: "[redacted]" },
  });
}
