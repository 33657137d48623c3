// The Outrigger dashboard: preact + htm (no build step) and uPlot, all served by the collector itself.
// Views: overview (service graph, services, splits, anomalies), one service (RED charts with config markers,
// routes), traces (search, waterfall), config timeline. It reads the collector's query API with a viewer token.
import { h, render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import htm from "htm";
import uPlot from "uplot";

const html = htm.bind(h);

// --- token and API -------------------------------------------------------------------------------------------
// The token arrives once in the URL fragment (#token=...), which browsers never send to a server; it is kept in
// sessionStorage and the fragment is cleared.
const TOKEN_KEY = "outrigger.token";
{
  const m = /(?:^#|[#&?])token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + "#/");
  }
}
const token = () => sessionStorage.getItem(TOKEN_KEY) || "";

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path) {
  const r = await fetch(path, { headers: { authorization: `Bearer ${token()}` } });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new ApiError(r.status, body?.error?.message || `HTTP ${r.status}`);
  return body;
}

/** Polls `path` every `ms` while mounted; returns { data, error }. */
function usePoll(path, ms) {
  const [state, setState] = useState({ data: null, error: null });
  useEffect(() => {
    if (!path) return undefined;
    let live = true;
    let timer;
    const tick = async () => {
      try {
        const data = await api(path);
        if (live) setState({ data, error: null });
      } catch (error) {
        if (live) setState((s) => ({ data: s.data, error }));
      }
      if (live && ms) timer = setTimeout(tick, ms);
    };
    tick();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [path, ms]);
  return state;
}

// --- routing -------------------------------------------------------------------------------------------------
function useRoute() {
  const [hash, setHash] = useState(location.hash || "#/");
  useEffect(() => {
    const on = () => setHash(location.hash || "#/");
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  const parts = hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  return parts;
}

// --- formatting ----------------------------------------------------------------------------------------------
const fmtRps = (v) => (v == null ? "–" : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const fmtMs = (v) => (v == null ? "–" : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : v >= 10 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`);
const fmtPct = (v) => (v == null ? "–" : `${(v * 100).toFixed(v > 0 && v < 0.01 ? 2 : 1)}%`);
const health = (errRate) => (errRate >= 0.05 ? "bad" : errRate >= 0.01 ? "warn" : "good");
const timeOf = (ms) => new Date(ms).toLocaleTimeString();

// --- service graph -------------------------------------------------------------------------------------------
function layout(services, edges) {
  const names = new Set(services.map((s) => s.service));
  for (const e of edges) {
    names.add(e.source);
    names.add(e.target);
  }
  const out = new Map();
  for (const n of names) out.set(n, []);
  const indeg = new Map([...names].map((n) => [n, 0]));
  for (const e of edges) {
    if (e.source === e.target) continue;
    out.get(e.source).push(e.target);
    indeg.set(e.target, indeg.get(e.target) + 1);
  }
  // Longest-path layering from the entry points, bounded by the node count (cycles cannot loop forever).
  const depth = new Map([...names].map((n) => [n, 0]));
  const roots = [...names].filter((n) => n === "(external)" || indeg.get(n) === 0);
  const queue = roots.length ? [...roots] : [...names].slice(0, 1);
  let steps = 0;
  while (queue.length && steps++ < names.size * names.size + 10) {
    const n = queue.shift();
    for (const m of out.get(n)) {
      if (depth.get(m) < depth.get(n) + 1 && depth.get(n) + 1 < names.size) {
        depth.set(m, depth.get(n) + 1);
        queue.push(m);
      }
    }
  }
  const cols = new Map();
  for (const n of [...names].sort()) {
    const d = depth.get(n);
    if (!cols.has(d)) cols.set(d, []);
    cols.get(d).push(n);
  }
  const colW = 320;
  const rowH = 100;
  const maxRows = Math.max(1, ...[...cols.values()].map((c) => c.length));
  const height = Math.max(220, maxRows * rowH + 40);
  const pos = new Map();
  for (const [d, list] of cols) {
    list.forEach((n, i) => pos.set(n, { x: 30 + d * colW, y: (height - list.length * rowH) / 2 + i * rowH + 20 }));
  }
  const width = Math.max(400, (Math.max(0, ...cols.keys()) + 1) * colW + 30);
  return { pos, width, height };
}

const NODE_W = 150;
const NODE_H = 56;

function ServiceGraph({ services, edges }) {
  if (!services.length && !edges.length) return html`<div class="empty">Waiting for the first spans…</div>`;
  const { pos, width, height } = layout(services, edges);
  const bySvc = new Map(services.map((s) => [s.service, s]));
  const maxRps = Math.max(0.001, ...edges.map((e) => e.rps));
  return html`
    <svg class="graph" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="service graph" style=${`max-height:${height * 1.3}px`}>
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead" />
        </marker>
      </defs>
      ${edges.filter((e) => pos.has(e.source) && pos.has(e.target)).map((e) => {
        const a = pos.get(e.source);
        const b = pos.get(e.target);
        const x1 = a.x + NODE_W;
        const y1 = a.y + NODE_H / 2;
        const x2 = b.x - 4;
        const y2 = b.y + NODE_H / 2;
        const mx = (x1 + x2) / 2;
        const w = 1.5 + 4 * Math.log1p(e.rps) / Math.log1p(maxRps);
        return html`<g class="edge ${health(e.errorRate)}" data-edge="${e.source}->${e.target}">
          <path d="M ${x1} ${y1} C ${mx} ${y1}, ${mx} ${y2}, ${x2} ${y2}" stroke-width=${w} marker-end="url(#arrow)" class=${e.rps > 0 ? "flow" : ""} />
          <text x=${mx} y=${(y1 + y2) / 2 - 7} text-anchor="middle" class="edge-label">${fmtRps(e.rps)}/s · ${fmtPct(e.errorRate)} · p95 ${fmtMs(e.p95)}</text>
        </g>`;
      })}
      ${[...pos].map(([name, p]) => {
        const s = bySvc.get(name);
        const ext = name === "(external)";
        return html`<g class="node ${ext ? "external" : health(s?.errorRate ?? 0)}" data-service=${name} transform="translate(${p.x},${p.y})"
            onClick=${() => !ext && (location.hash = `#/service/${encodeURIComponent(name)}`)}>
          <rect width=${NODE_W} height=${NODE_H} rx="10" />
          <text x="12" y="22" class="node-name">${ext ? "traffic" : name}</text>
          <text x="12" y="42" class="node-stats">${s ? `${fmtRps(s.rps)}/s · ${fmtPct(s.errorRate)} · ${(s.versions || []).join(" ")}` : ext ? "entry" : ""}</text>
        </g>`;
      })}
    </svg>`;
}

// --- tables and panels ---------------------------------------------------------------------------------------
function ServicesTable({ services }) {
  return html`<table class="grid" data-testid="services">
    <thead><tr><th>service</th><th>versions</th><th class="num">req/s</th><th class="num">errors</th><th class="num">p50</th><th class="num">p95</th><th class="num">p99</th><th class="num">429</th><th class="num">5xx</th></tr></thead>
    <tbody>${services.map((s) => html`<tr data-service=${s.service} onClick=${() => (location.hash = `#/service/${encodeURIComponent(s.service)}`)} class="clickable">
      <td><span class="dot ${health(s.errorRate)}"></span>${s.service}</td><td>${s.versions.join(", ")}</td>
      <td class="num">${fmtRps(s.rps)}</td><td class="num">${fmtPct(s.errorRate)}</td>
      <td class="num">${fmtMs(s.p50)}</td><td class="num">${fmtMs(s.p95)}</td><td class="num">${fmtMs(s.p99)}</td>
      <td class="num">${s.status429}</td><td class="num">${s.status5xx}</td></tr>`)}</tbody></table>`;
}

function Splits({ splits }) {
  if (!splits.length) return html`<div class="empty small">No weighted routes configured (or no control plane).</div>`;
  return html`<div class="splits">${splits.map((sp) => {
    const total = Object.values(sp.weights).reduce((a, b) => a + b, 0) || 1;
    const keys = [...new Set([...Object.keys(sp.weights), ...Object.keys(sp.observed)])].sort();
    return html`<div class="split" data-route=${sp.route}>
      <div class="split-title"><b>${sp.route}</b> → ${sp.service} <span class="muted">${sp.samples} req${sp.deviation != null ? ` · off by ${Math.round(sp.deviation * 100)} pts` : ""}</span></div>
      ${keys.map((k, i) => html`<div class="split-row" data-subset=${k} data-configured=${(sp.weights[k] ?? 0) / total} data-observed=${sp.observed[k] ?? 0}>
        <span class="subset">${k}</span>
        <div class="bars">
          <div class="bar configured c${i % 4}" style=${`width:${(100 * (sp.weights[k] ?? 0)) / total}%`}></div>
          <div class="bar observed c${i % 4}" style=${`width:${100 * (sp.observed[k] ?? 0)}%`}></div>
        </div>
        <span class="pct">${Math.round((100 * (sp.weights[k] ?? 0)) / total)}% / ${Math.round(100 * (sp.observed[k] ?? 0))}%</span>
      </div>`)}
    </div>`;
  })}<div class="legend muted small">upper bar: configured · lower bar: observed (last 10 s)</div></div>`;
}

function Anomalies({ items }) {
  if (!items.length) return html`<div class="empty small ok-text" data-testid="anomalies">No anomalies.</div>`;
  return html`<ul class="anomalies" data-testid="anomalies">${items.map((a) => html`<li class=${a.kind} data-kind=${a.kind}>
    <span class="badge">${a.kind.replace(/_/g, " ")}</span><span>${a.message}</span><span class="muted small">since ${new Date(a.since).toLocaleTimeString()}</span></li>`)}</ul>`;
}

function Card({ title, children, extra, cls }) {
  return html`<section class="card ${cls || ""}"><header><h2>${title}</h2>${extra}</header>${children}</section>`;
}

function Overview() {
  const { data, error } = usePoll("/api/overview?window=30&splitWindow=10", 2000);
  if (!data) return html`<div class="empty">${error ? error.message : "Loading…"}</div>`;
  return html`<div class="overview">
    <${Card} title="Service graph" cls="wide" extra=${html`<span class="muted small">last 30 s · edges: requests/s · errors · p95</span>`}>
      <${ServiceGraph} services=${data.services} edges=${data.edges} />
    <//>
    <div class="side">
      <${Card} title="Anomalies"><${Anomalies} items=${data.anomalies} /><//>
      <${Card} title="Canary: configured vs observed"><${Splits} splits=${data.splits} /><//>
    </div>
    <${Card} title="Services" cls="wide"><${ServicesTable} services=${data.services.filter((s) => s.service !== "(external)")} /><//>
  </div>`;
}

// --- charts --------------------------------------------------------------------------------------------------
const SERIES_COLOURS = ["#4cc38a", "#f5a524", "#f05252", "#6ea8fe"];

function markerPlugin(markersRef) {
  return {
    hooks: {
      draw: [
        (u) => {
          const ctx = u.ctx;
          ctx.save();
          for (const m of markersRef.current || []) {
            if (m.t < u.scales.x.min || m.t > u.scales.x.max) continue;
            const x = Math.round(u.valToPos(m.t, "x", true));
            ctx.strokeStyle = "#a78bfa";
            ctx.setLineDash([4, 4]);
            ctx.lineWidth = 1.5 * devicePixelRatio;
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.setLineDash([]);
            ctx.fillStyle = "#a78bfa";
            ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
            ctx.fillText(`v${m.version}`, x + 4 * devicePixelRatio, u.bbox.top + 12 * devicePixelRatio);
          }
          ctx.restore();
        },
      ],
    },
  };
}

function Chart({ title, series, data, markers, unit }) {
  const el = useRef(null);
  const plot = useRef(null);
  const markersRef = useRef(markers);
  markersRef.current = markers;
  useEffect(() => {
    const node = el.current;
    const width = Math.max(280, node.clientWidth);
    plot.current = new uPlot(
      {
        width,
        height: 180,
        plugins: [markerPlugin(markersRef)],
        legend: { live: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        axes: [
          { stroke: "#8b93a7", grid: { stroke: "#252b38" }, ticks: { stroke: "#252b38" } },
          { stroke: "#8b93a7", grid: { stroke: "#252b38" }, ticks: { stroke: "#252b38" }, size: 56, values: (u, vals) => vals.map((v) => (v == null ? "" : `${+v.toFixed(2)}${unit}`)) },
        ],
        series: [{}, ...series.map((s, i) => ({ label: s, stroke: SERIES_COLOURS[i % 4], width: 2, spanGaps: true, points: { show: false } }))],
      },
      data,
      node,
    );
    const ro = new ResizeObserver(() => plot.current && plot.current.setSize({ width: Math.max(280, node.clientWidth), height: 180 }));
    ro.observe(node);
    return () => {
      ro.disconnect();
      plot.current.destroy();
      plot.current = null;
    };
  }, [series.join(",")]);
  useEffect(() => {
    if (plot.current) plot.current.setData(data);
  }, [data, markers]);
  return html`<div class="chart"><div class="chart-title">${title}</div><div ref=${el}></div></div>`;
}

/** Drops the empty buckets before the first request (a young mesh), keeping at least the last minute. */
function trimLeading(d) {
  if (!d) return d;
  const first = d.rps.findIndex((v) => v > 0);
  const keep = Math.max(0, Math.min(first < 0 ? d.t.length : first, d.t.length - Math.ceil(60 / d.step)) - 1);
  if (keep <= 0) return d;
  const cut = (a) => a.slice(keep);
  return { ...d, t: cut(d.t), rps: cut(d.rps), errorPct: cut(d.errorPct), p50: cut(d.p50), p95: cut(d.p95), p99: cut(d.p99) };
}

function ServiceView({ service }) {
  const [route, setRoute] = useState("");
  const q = `service=${encodeURIComponent(service)}${route ? `&route=${encodeURIComponent(route)}` : ""}`;
  const ts = usePoll(`/api/timeseries?${q}&window=600`, 5000);
  const routes = usePoll(`/api/routes?service=${encodeURIComponent(service)}&window=60`, 5000);
  const timeline = usePoll("/api/timeline", 10000);
  const traces = usePoll(`/api/traces?${q}&limit=15`, 5000);
  const markers = (timeline.data?.items || []).map((v) => ({ t: Date.parse(v.time) / 1000, version: v.version })).filter((m) => Number.isFinite(m.t));
  const d = trimLeading(ts.data);
  const inbound = (routes.data?.items || []).filter((r) => r.direction === "inbound");
  return html`<div class="service-view">
    <div class="title-row"><h1>${service}</h1>
      <label>route <select value=${route} onChange=${(e) => setRoute(e.target.value)}>
        <option value="">all routes</option>${inbound.map((r) => html`<option value=${r.route}>${r.route}</option>`)}
      </select></label>
      <span class="muted small">up to 10 minutes · dashed lines: config versions</span></div>
    ${d
      ? html`<div class="charts">
          <${Chart} title="requests / s" series=${["req/s"]} data=${[d.t, d.rps]} markers=${markers} unit="" />
          <${Chart} title="error %" series=${["error %"]} data=${[d.t, d.errorPct]} markers=${markers} unit="%" />
          <${Chart} title="latency p50 / p95 / p99" series=${["p50", "p95", "p99"]} data=${[d.t, d.p50, d.p95, d.p99]} markers=${markers} unit="ms" />
        </div>`
      : html`<div class="empty">${ts.error ? ts.error.message : "Loading…"}</div>`}
    <${Card} title="Routes (last minute)">
      <table class="grid"><thead><tr><th>route</th><th>direction</th><th class="num">req/s</th><th class="num">errors</th><th class="num">p50</th><th class="num">p95</th><th class="num">p99</th></tr></thead>
      <tbody>${(routes.data?.items || []).map((r) => html`<tr><td>${r.route}</td><td>${r.direction}</td><td class="num">${fmtRps(r.rps)}</td><td class="num">${fmtPct(r.errorRate)}</td><td class="num">${fmtMs(r.p50)}</td><td class="num">${fmtMs(r.p95)}</td><td class="num">${fmtMs(r.p99)}</td></tr>`)}</tbody></table>
    <//>
    <${Card} title="Recent traces"><${TraceList} items=${traces.data?.items || []} /><//>
  </div>`;
}

// --- traces --------------------------------------------------------------------------------------------------
function TraceList({ items }) {
  if (!items.length) return html`<div class="empty small">No traces match.</div>`;
  return html`<table class="grid traces" data-testid="trace-list"><thead><tr><th>time</th><th>root</th><th>services</th><th class="num">spans</th><th class="num">duration</th><th>status</th></tr></thead>
    <tbody>${items.map((t) => html`<tr class="clickable" data-trace-id=${t.traceId} onClick=${() => (location.hash = `#/trace/${t.traceId}`)}>
      <td>${timeOf(t.startMs)}</td><td>${t.rootService} <span class="muted">${t.rootName}</span></td><td>${t.services.join(" → ")}</td>
      <td class="num">${t.spans}</td><td class="num">${fmtMs(t.durationMs)}</td>
      <td><span class="dot ${t.error ? "bad" : "good"}"></span>${t.httpStatus || (t.error ? "error" : "ok")}</td></tr>`)}</tbody></table>`;
}

function TracesView() {
  const [form, setForm] = useState({ service: "", route: "", status: "", minDuration: "", traceId: "" });
  const [query, setQuery] = useState("");
  const { data, error } = usePoll(`/api/traces?limit=50${query}`, 5000);
  const submit = (e) => {
    e.preventDefault();
    setQuery(Object.entries(form).filter(([, v]) => v).map(([k, v]) => `&${k}=${encodeURIComponent(v)}`).join(""));
  };
  const field = (name, placeholder) => html`<input name=${name} placeholder=${placeholder} value=${form[name]} onInput=${(e) => setForm({ ...form, [name]: e.target.value })} />`;
  return html`<div>
    <form class="filters" onSubmit=${submit}>
      ${field("service", "service")}${field("route", "route")}${field("status", "status: error, 5xx, 503")}${field("minDuration", "min ms")}${field("traceId", "trace id")}
      <button type="submit">Search</button>
    </form>
    ${data ? html`<${TraceList} items=${data.items} />` : html`<div class="empty">${error ? error.message : "Loading…"}</div>`}
  </div>`;
}

function Waterfall({ traceId }) {
  const { data, error } = usePoll(`/api/traces/${encodeURIComponent(traceId)}`, 0);
  const [selected, setSelected] = useState(null);
  if (!data) return html`<div class="empty">${error ? error.message : "Loading…"}</div>`;
  const spans = data.items;
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map();
  for (const s of spans) {
    const p = s.parentSpanId && ids.has(s.parentSpanId) ? s.parentSpanId : "";
    if (!children.has(p)) children.set(p, []);
    children.get(p).push(s);
  }
  const ordered = [];
  const walk = (p, depth) => {
    for (const s of (children.get(p) || []).sort((a, b) => a.startMs - b.startMs)) {
      if (ordered.length > spans.length) return;
      ordered.push({ s, depth });
      walk(s.spanId, depth + 1);
    }
  };
  walk("", 0);
  const t0 = data.startMs;
  const total = Math.max(data.durationMs, 0.001);
  const sel = selected ? spans.find((s) => s.spanId === selected) : null;
  return html`<div class="trace-view">
    <div class="title-row"><h1>Trace <code>${traceId}</code></h1><span class="muted">${data.services.join(" → ")} · ${data.spans} spans · ${fmtMs(data.durationMs)}</span></div>
    <div class="waterfall" data-testid="waterfall">
      <div class="wf-axis"><span>0</span><span>${fmtMs(total / 2)}</span><span>${fmtMs(total)}</span></div>
      ${ordered.map(({ s, depth }) => html`<div class="wf-row ${sel === s ? "selected" : ""}" data-span-id=${s.spanId} data-service=${s.service} onClick=${() => setSelected(s.spanId)}>
        <div class="wf-label" style=${`padding-left:${depth * 14 + 6}px`}><span class="kind ${s.kind}">${s.kind === "server" ? "in" : s.kind === "client" ? "out" : s.kind}</span> <b>${s.service}</b> <span class="muted">${s.name}</span></div>
        <div class="wf-track"><div class="wf-bar ${s.httpStatus >= 500 || s.status === 2 ? "bad" : "good"}" style=${`left:${(100 * (s.startMs - t0)) / total}%;width:${Math.max(0.3, (100 * s.durationMs) / total)}%`}></div>
          <span class="wf-dur" style=${`left:${Math.min(92, (100 * (s.startMs - t0 + s.durationMs)) / total + 0.5)}%`}>${fmtMs(s.durationMs)}</span></div>
      </div>`)}
    </div>
    ${sel
      ? html`<${Card} title=${`${sel.service} · ${sel.name}`}>
          <table class="attrs" data-testid="span-attributes"><tbody>
            ${[["span id", sel.spanId], ["parent", sel.parentSpanId || "–"], ["kind", sel.kind], ["duration", fmtMs(sel.durationMs)], ["status", `${sel.status}${sel.statusMessage ? ` ${sel.statusMessage}` : ""}`],
              ...Object.entries(sel.attributes), ...Object.entries(sel.resource).map(([k, v]) => [`resource ${k}`, v])].map(([k, v]) => html`<tr><th>${k}</th><td>${String(v)}</td></tr>`)}
          </tbody></table>
        <//>`
      : html`<div class="muted small hint">Click a span to see its attributes.</div>`}
  </div>`;
}

// --- config timeline -----------------------------------------------------------------------------------------
function Timeline() {
  const { data, error } = usePoll("/api/timeline", 5000);
  if (!data) return html`<div class="empty">${error ? error.message : "Loading…"}</div>`;
  if (data.source === "none") return html`<div class="empty">The collector is not connected to a control plane (--control-plane).</div>`;
  return html`<div>
    ${data.stale ? html`<div class="warning">Control plane unreachable: ${data.error}. Showing the last known timeline.</div>` : null}
    <ol class="timeline" data-testid="timeline">${[...data.items].reverse().map((v) => html`<li data-version=${v.version}>
      <span class="version">v${v.version}</span><span class="action ${v.action}">${v.action}</span>
      <span class="msg">${v.message || html`<i class="muted">no message</i>`}</span>
      <span class="muted small">${v.author} · ${new Date(v.time).toLocaleString()}</span></li>`)}</ol></div>`;
}

// --- shell ---------------------------------------------------------------------------------------------------
function TokenPrompt({ message }) {
  const [value, setValue] = useState("");
  const save = (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, value.trim());
    location.reload();
  };
  return html`<form class="token-prompt" onSubmit=${save}><h1>Viewer token needed</h1><p class="muted">${message}</p>
    <input type="password" placeholder="viewer token" value=${value} onInput=${(e) => setValue(e.target.value)} /><button type="submit">Open</button></form>`;
}

function App() {
  const route = useRoute();
  const probe = usePoll("/api/stats", 5000);
  const authError = probe.error && (probe.error.status === 401 || probe.error.status === 403);
  const nav = (href, label, active) => html`<a href=${href} class=${active ? "active" : ""}>${label}</a>`;
  let view;
  if (authError) view = html`<${TokenPrompt} message=${probe.error.message} />`;
  else if (route[0] === "service" && route[1]) view = html`<${ServiceView} service=${route[1]} key=${route[1]} />`;
  else if (route[0] === "traces") view = html`<${TracesView} />`;
  else if (route[0] === "trace" && route[1]) view = html`<${Waterfall} traceId=${route[1]} key=${route[1]} />`;
  else if (route[0] === "timeline") view = html`<${Timeline} />`;
  else view = html`<${Overview} />`;
  const s = probe.data;
  return html`<div class="shell">
    <nav class="top">
      <span class="brand"><svg width="22" height="16" viewBox="0 0 22 16" aria-hidden="true"><path d="M1 11 h20 l-3 4 h-14 z" fill="#6ea8fe"/><path d="M10 1 v9 M10 2 l6 7 h-6" stroke="#e3e7ef" stroke-width="1.5" fill="none"/></svg> Outrigger</span>
      ${nav("#/", "Overview", !route[0])}${nav("#/traces", "Traces", route[0] === "traces" || route[0] === "trace")}${nav("#/timeline", "Config timeline", route[0] === "timeline")}
      <span class="grow"></span>
      <span class="muted small">${s ? `${s.received.spans.toLocaleString()} spans · ${s.traces.toLocaleString()} traces kept` : ""}</span>
      <span class="live ${probe.error ? "down" : "up"}" title=${probe.error ? probe.error.message : "collector reachable"}></span>
    </nav>
    <main>${view}</main>
  </div>`;
}

render(html`<${App} />`, document.getElementById("app"));
