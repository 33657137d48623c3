// An app that reports custom telemetry to its sidecar through the envelope client (outrigger/envelope).
// Run it behind a sidecar:
//   outrigger sidecar --service shop --app 127.0.0.1:8080 --inbound 15006 --admin 15000 --envelope 15002 &
//   OUTRIGGER_ENVELOPE_URL=http://127.0.0.1:15002 PORT=8080 node examples/envelope/app.mjs
//   curl localhost:15006/checkout?items=3
// Each request adds an event and a child span to the sidecar's server span, a counter and a histogram to
// /metrics (outrigger_app_events_total, outrigger_app_observations) and a log line with the trace id.
import http from "node:http";
import { EnvelopeClient, fromHeaders } from "outrigger/envelope";

const envelope = new EnvelopeClient();
const port = Number(process.env.PORT ?? 8080);

const server = http.createServer(async (req, res) => {
  const at = fromHeaders(req.headers);
  const url = new URL(req.url ?? "/", "http://app");
  const items = Number(url.searchParams.get("items") ?? 1);
  const start = Date.now();
  await envelope.event("cart.validated", at, { items });
  const total = items * 9.5; // pretend work
  await envelope.span("price.compute", { ...at, start, durationMs: Date.now() - start + 1, attributes: { items, total } });
  await envelope.metric("orders", 1, at);
  await envelope.metric("order.value", total, { ...at, type: "histogram" });
  await envelope.log(`order priced at ${total}`, { ...at, attributes: { items } });
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ items, total }));
});
server.listen(port, "127.0.0.1", () => console.log(JSON.stringify({ msg: "shop listening", port })));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
