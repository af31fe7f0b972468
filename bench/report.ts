/**
 * Turns benchmark results into the target check, the Markdown report and the SVG chart.
 * Pure: results in, strings out.
 */
import type { BrowserResults, PathSummaries } from "./browser-bench.js";
import type { BundleSize } from "./bundle-size.js";
import type { MachineInfo } from "./machine.js";
import { pathNames, type PathName } from "./page/types.js";
import { ratio, type Summary } from "./stats.js";

/** Gateway-alone results for one client. */
export interface GatewaySummary {
  callsPerSec: Summary;
  gatewayCpuUsPerCall: Summary;
  backendCpuUsPerCall: Summary;
  clientCpuUsPerCall: Summary;
  /** One call at a time: µs per call. */
  sequentialUsPerCall?: Summary;
}

/** One target from the design, checked against the medians. */
export interface TargetCheck {
  name: string;
  /** undefined when the measurement is missing. */
  met: boolean | undefined;
  detail: string;
}

/** Everything one run produced (the JSON file's shape). */
export interface BenchResults {
  date: string;
  command: string;
  quick: boolean;
  reps: number;
  /** Wall time of the whole run. */
  durationSeconds?: number;
  machine: MachineInfo;
  plan: unknown;
  /** Chromium: every workload. */
  browser?: BrowserResults;
  /** Firefox ESR: sequential, sparse and wasmws. */
  firefox?: BrowserResults;
  gateway?: { tunnel: GatewaySummary; direct: GatewaySummary };
  idleSockets?: { sockets: number; rssBytesPerSocket: Summary; heapBytesPerSocket: Summary }[];
  bundles?: BundleSize[];
  targets?: TargetCheck[];
}

/** wasmws's published figure (its README: Firefox 71, Ryzen 9 3900X), shown only when the run did not measure wasmws. */
export const wasmwsUsPerCall = 452.88;

const pathLabels: Record<PathName, string> = {
  "direct-h1": "direct Connect, HTTP/1.1",
  "direct-h2": "direct Connect, HTTP/2 + TLS",
  "tunnel-fetch": "tunnel, unmodified fetch client",
  "tunnel-fastpath": "tunnel, fetch client over the page fast path",
  "page-sdk": "tunnel, page-SDK transport",
  "page-sdk-grpc": "tunnel, page-SDK transport, gRPC upstream (grpc-js)",
  "page-socket": "tunnel, the page's own socket (no worker)",
  "page-sdk-inproc": "in-process mode, page-SDK transport",
  "page-socket-inproc": "in-process mode, the page's own socket (no worker)",
  "ws-echo": "raw page WebSocket echo (floor)",
  "fetch-echo": "plain fetch POST echo, HTTP/1.1 (fetch floor)",
};
const pathOrder = pathNames;

const med = (s: PathSummaries, p: PathName): number | undefined => s[p]?.median;

/** Limits of issue 10's targets (ratios of medians measured in the same run). */
export const issue10Limits = {
  /** fast path and page-SDK sequential time per call / wasmws's demo, same browser. */
  perCallVsWasmws: 1,
  /**
   * The page's own socket to in-process mode (wasmws's architecture: no worker, the RPC
   * service in the process holding the WebSocket), sequential time per call / wasmws's demo.
   */
  socketInProcessVsWasmws: 1,
  /** The page-SDK transport to in-process mode, sequential time per call / wasmws's demo. */
  pageSdkInProcessVsWasmws: 1,
  /** fast path sequential time per call / direct connect-web over HTTP/1.1. */
  fastPathVsH1: 0.5,
  /** tunnel-fetch (worker fetch event) sequential time per call / direct HTTP/1.1. */
  tunnelFetchVsH1: 1.3,
  /** sparse calls (250 ms apart), median per call, fast path / direct HTTP/1.1. */
  sparseVsH1: 0.8,
  /** calls/s at 256 in flight / direct HTTP/1.1. */
  inflight256VsH1: 3,
  /** server-stream throughput with 64 KiB messages / direct HTTP/1.1. */
  stream64KiBVsH1: 1,
  /** server-stream throughput with 100 B messages to a gRPC upstream / direct HTTP/1.1. */
  stream100BVsH1: 0.9,
  /** gateway CPU µs per unary call (64 in flight, grpc-js upstream). */
  gatewayCpuUs: 75,
  /** worker bundle (sw.js) KiB min+gzip. */
  workerKiB: 20,
} as const;

/**
 * Checks each target: first issue 10's table (per engine where the figure exists in both),
 * then the design's other targets. A missing measurement gives met = undefined and says
 * what was missing. Reported, never asserted.
 */
export function evaluateTargets(r: BenchResults): TargetCheck[] {
  const out: TargetCheck[] = [];
  const check = (name: string, value: number, limit: number, atMost: boolean, unit = "x", missing = "not measured"): void => {
    if (!Number.isFinite(value)) {
      out.push({ name, met: undefined, detail: missing });
      return;
    }
    const met = atMost ? value <= limit : value >= limit;
    out.push({
      name,
      met,
      detail: `${value.toFixed(unit === "x" ? 2 : 1)}${unit === "x" ? "x" : ` ${unit}`} (target ${atMost ? "<=" : ">="} ${limit}${unit === "x" ? "x" : ` ${unit}`})`,
    });
  };
  const L = issue10Limits;
  const b = r.browser;
  const noFastPath = "not measured (the page-SDK bundle has no tunnelFetch)";
  const noWasmws = "not measured (run with --wasmws DIR)";
  for (const [engine, e] of [
    ["Chromium", r.browser],
    ["Firefox", r.firefox],
  ] as const) {
    if (!e && engine === "Firefox") continue;
    const seq = e?.sequentialUsPerCall ?? {};
    const wasmws = e?.wasmwsUsPerCall?.median;
    const fastMissing = e && !e.fastPath ? noFastPath : undefined;
    check(
      `${engine}: fast path / wasmws, sequential (time per call)`,
      ratio(med(seq, "tunnel-fastpath"), wasmws),
      L.perCallVsWasmws,
      true,
      "x",
      fastMissing ?? (wasmws === undefined ? noWasmws : undefined),
    );
    for (const [label, path, limit] of [
      ["page-SDK", "page-sdk", L.perCallVsWasmws],
      ["page-socket-inproc", "page-socket-inproc", L.socketInProcessVsWasmws],
      ["page-SDK in-process", "page-sdk-inproc", L.pageSdkInProcessVsWasmws],
    ] as const) {
      check(
        `${engine}: ${label} / wasmws, sequential (time per call)`,
        ratio(med(seq, path), wasmws),
        limit,
        true,
        "x",
        wasmws === undefined ? noWasmws : undefined,
      );
    }
    check(
      `${engine}: fast path / direct HTTP/1.1, sequential (time per call)`,
      ratio(med(seq, "tunnel-fastpath"), med(seq, "direct-h1")),
      L.fastPathVsH1,
      true,
      "x",
      fastMissing,
    );
    check(
      `${engine}: tunnel-fetch / direct HTTP/1.1, sequential (time per call)`,
      ratio(med(seq, "tunnel-fetch"), med(seq, "direct-h1")),
      L.tunnelFetchVsH1,
      true,
    );
    const sparse = e?.sparse.medianUs ?? {};
    check(
      `${engine}: sparse (250 ms apart) fast path / direct HTTP/1.1 (median per call)`,
      ratio(med(sparse, "tunnel-fastpath"), med(sparse, "direct-h1")),
      L.sparseVsH1,
      true,
      "x",
      fastMissing,
    );
  }
  const c256 = b?.concurrency["256"]?.callsPerSec ?? {};
  check(
    "256 in flight fast path / direct HTTP/1.1 (calls/s)",
    ratio(med(c256, "tunnel-fastpath"), med(c256, "direct-h1")),
    L.inflight256VsH1,
    false,
    "x",
    b && !b.fastPath ? noFastPath : undefined,
  );
  check(
    "256 in flight page-SDK / direct HTTP/1.1 (calls/s)",
    ratio(med(c256, "page-sdk"), med(c256, "direct-h1")),
    L.inflight256VsH1,
    false,
  );
  const big = b?.stream["64KiB"].mbPerSec ?? {};
  const small = b?.stream["100B"].msgsPerSec ?? {};
  for (const path of ["tunnel-fetch", "page-sdk"] as const) {
    check(
      `stream 64 KiB messages ${path} / direct HTTP/1.1 (MB/s)`,
      ratio(med(big, path), med(big, "direct-h1")),
      L.stream64KiBVsH1,
      false,
    );
  }
  check(
    "stream 100 B messages, gRPC upstream (page-SDK) / direct HTTP/1.1 (msgs/s)",
    ratio(med(small, "page-sdk-grpc"), med(small, "direct-h1")),
    L.stream100BVsH1,
    false,
  );
  check(
    "gateway CPU per unary call (64 in flight)",
    r.gateway?.tunnel.gatewayCpuUsPerCall.median ?? Number.NaN,
    L.gatewayCpuUs,
    true,
    "µs",
  );
  const sw = r.bundles?.find((x) => x.file === "sw.js");
  check("worker bundle min+gzip", sw ? sw.gzipBytes / 1024 : Number.NaN, L.workerKiB, true, "KiB");

  // The design's other targets.
  const seq = b?.sequentialUsPerCall ?? {};
  check("page-sdk sequential vs raw WebSocket echo (time per call)", ratio(med(seq, "page-sdk"), med(seq, "ws-echo")), 2, true);
  for (const path of ["tunnel-fetch", "page-sdk"] as const) {
    check(`${path} 256 in flight vs direct HTTP/2 (calls/s)`, ratio(med(c256, path), med(c256, "direct-h2")), 1.5, false);
  }
  check("tunnel-fetch 256 in flight vs direct HTTP/1.1 (calls/s)", ratio(med(c256, "tunnel-fetch"), med(c256, "direct-h1")), 3, false);
  for (const path of ["tunnel-fetch", "page-sdk"] as const) {
    check(`${path} streaming 100 B messages vs direct HTTP/1.1 (msgs/s)`, ratio(med(small, path), med(small, "direct-h1")), 0.9, false);
  }
  check(
    "gateway vs direct HTTP/2 client (calls/s)",
    ratio(r.gateway?.tunnel.callsPerSec.median, r.gateway?.direct.callsPerSec.median),
    0.8,
    false,
  );
  for (const s of r.idleSockets ?? []) {
    check(`gateway memory per idle socket at ${s.sockets} sockets`, s.rssBytesPerSocket.median / 1024, 32, true, "KiB");
  }
  return out;
}

function fmt(s: Summary | undefined, digits = 1): string {
  if (!s) return "–";
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
}

function fmtRatio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : "–";
}

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

/** The sequential and sparse tables of one engine, with the "/ wasmws" column when wasmws ran. */
function sequentialSection(e: BrowserResults): string {
  const seq = e.sequentialUsPerCall;
  const h1 = med(seq, "direct-h1");
  const wasmws = e.wasmwsUsPerCall;
  const head = ["path", "µs per call", "x direct HTTP/1.1", ...(wasmws ? ["/ wasmws"] : [])];
  const rows = pathOrder
    .filter((p) => seq[p])
    .map((p) => [
      pathLabels[p],
      fmt(seq[p]),
      fmtRatio(ratio(med(seq, p), h1)),
      ...(wasmws ? [fmtRatio(ratio(med(seq, p), wasmws.median))] : []),
    ]);
  if (wasmws) rows.push(["wasmws demo (grpc-go in wasm over a page WebSocket)", fmt(wasmws), fmtRatio(ratio(wasmws.median, h1)), "1.00x"]);
  const intro = wasmws
    ? `One call after the other. wasmws's own demo (its Go gRPC server and its page: 8192 sequential
calls, the figure from its \`SUCCESS ... (average X per operation)\` console line) ran in the
same browser in the same run; "/ wasmws" is our time per call over its.`
    : `One call after the other, as wasmws's demo does. wasmws did not run here (\`--wasmws DIR\`);
its README publishes ${wasmwsUsPerCall} µs per call on Firefox 71 / Ryzen 9 3900X, another machine.`;
  const parts = [`${intro}\n\n${table(head, rows)}`];
  const split = timeSplit(e);
  if (split.length > 0) {
    parts.push(`### Where the time goes

Differences of the medians above, one layer at a time: the page-SDK transport against the
page's own tunnel socket (the same tunnel client, in the page instead of the worker) is the
Service Worker and its MessagePort hops; the page's own socket to the standalone gateway against in-process
mode is the separate Connect backend behind an HTTP/2 hop; in-process mode against wasmws
is what remains (our JavaScript client and server against grpc-go in wasm, same shape).

${table(
  ["layer", "µs per call"],
  split.map((x) => [x.layer, x.us.toFixed(1)]),
)}`);
  }
  const sp = e.sparse;
  const spPaths = pathOrder.filter((p) => sp.medianUs[p]);
  if (spPaths.length > 0) {
    const spH1 = med(sp.medianUs, "direct-h1");
    parts.push(`### Sparse calls, 250 ms apart

What most apps do: one call, idle, another. Each call is timed alone after the gap (the worker
may have gone idle, sockets sat unused); median and p90 of each run's calls, then the median
(min–max) over runs.

${table(
  ["path", "median µs per call", "p90 µs per call", "median x direct HTTP/1.1"],
  spPaths.map((p) => [pathLabels[p], fmt(sp.medianUs[p], 0), fmt(sp.p90Us[p], 0), fmtRatio(ratio(med(sp.medianUs, p), spH1))]),
)}`);
  }
  return parts.join("\n\n");
}

/** One layer of the sequential call: the difference of two medians, µs per call. */
export interface TimeSplitRow {
  layer: string;
  us: number;
}

/**
 * Splits the sequential call into layers by differences of medians measured in the same
 * run; a layer whose two figures are not both there is left out.
 */
export function timeSplit(e: BrowserResults): TimeSplitRow[] {
  const seq = e.sequentialUsPerCall;
  const layers: [string, number | undefined, number | undefined][] = [
    ["Service Worker + MessagePort hops (page-sdk − page-socket)", med(seq, "page-sdk"), med(seq, "page-socket")],
    [
      "Service Worker + MessagePort hops, in-process (page-sdk-inproc − page-socket-inproc)",
      med(seq, "page-sdk-inproc"),
      med(seq, "page-socket-inproc"),
    ],
    [
      "separate Connect backend behind an HTTP/2 hop (page-socket − page-socket-inproc)",
      med(seq, "page-socket"),
      med(seq, "page-socket-inproc"),
    ],
    ["the rest against wasmws (page-socket-inproc − wasmws demo)", med(seq, "page-socket-inproc"), e.wasmwsUsPerCall?.median],
  ];
  return layers.flatMap(([layer, a, b]) => (a === undefined || b === undefined ? [] : [{ layer, us: a - b }]));
}

/** The Markdown report (docs/BENCHMARKS.md). */
export function renderMarkdown(r: BenchResults): string {
  const m = r.machine;
  const parts: string[] = [];
  parts.push(`# swtunnel benchmarks

Generated by \`${r.command}\` on ${r.date.slice(0, 10)} (${r.date}). Every figure is the
median of ${r.reps} runs with min–max in parentheses; ratios compare medians. This run took
${r.durationSeconds === undefined ? "?" : `${Math.round(r.durationSeconds / 60)} minutes`}. Rerun with \`npm run bench\` or \`npm run bench -- --quick\` (3 runs, smaller
workloads); raw numbers are in \`bench-results/latest.json\`.

Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.os}; Node ${m.node}; ${r.browser?.version ?? m.chromium}${r.firefox ? `; ${r.firefox.version}` : ""}.

How it is measured: Debian Chromium runs headless as a plain child process, driven over a
raw Chrome DevTools Protocol socket (no Playwright instrumentation in the path). Pages are
cross-origin isolated, so \`performance.now()\` has 5 µs resolution. Direct paths and the
WebSocket floor run on a page without a worker; the tunnel paths on a second origin whose
page registered the ready-made worker (\`dist/browser/sw.js\`), which carries calls to a
gateway in its own process. The direct paths call the Connect backend (connect-node) over
HTTP/1.1 with CORS and over HTTP/2 with TLS (self-signed certificate made at run time);
the tunnel's gateway forwards to the same Connect backend over h2c. The backends run in
one child process, the gateway in another. \`page-socket\` is the page's own tunnel socket
with no worker (\`createTunnelClient\` + \`createTransportOverTunnel\` from \`swtunnel/client\`
running in the worker-less page) to the same gateway. The two in-process paths reach
in-process mode instead (\`createTunnelEndpoint\`: the Connect services in the very process
holding the WebSocket, in a child process of its own), as wasmws's Go server does:
\`page-socket-inproc\` from the worker-less page, \`page-sdk-inproc\` through the worker of a
fourth origin (one worker per origin). These three run every workload but the sparse one. Two floors use no RPC library at all: a raw
page WebSocket and a plain \`fetch\` POST (HTTP/1.1), both to a Node echo server sending
back the bytes of an encoded HelloRequest. Calls are \`DemoService.SayHello\` (hello
world) and \`TestService\` (streams, big messages, bidi), binary protobuf. With
\`--wasmws DIR\`, wasmws's own demo (its Go server and page, 8192 sequential calls) runs in
the same browsers in the same run and the sequential tables show our paths over it. Firefox
ESR (raw WebDriver BiDi) runs the sequential and sparse workloads and the wasmws demo.${r.browser && !r.browser.isolated ? "\n\n**Warning: the pages were not cross-origin isolated; timer resolution was coarse.**" : ""}
`);
  const b = r.browser;
  if (b) {
    parts.push(`## Sequential unary calls (hello world), ${b.version}

${sequentialSection(b)}
`);
    const levels = Object.keys(b.concurrency);
    parts.push(`## Calls in flight

${levels
  .map((level) => {
    const c = b.concurrency[level];
    return `### ${level} in flight\n\n${table(
      ["path", "calls/s", "x direct HTTP/1.1", "x direct HTTP/2", "p50 µs", "p99 µs"],
      pathOrder
        .filter((p) => c.callsPerSec[p])
        .map((p) => [
          pathLabels[p],
          fmt(c.callsPerSec[p], 0),
          fmtRatio(ratio(med(c.callsPerSec, p), med(c.callsPerSec, "direct-h1"))),
          fmtRatio(ratio(med(c.callsPerSec, p), med(c.callsPerSec, "direct-h2"))),
          fmt(c.p50Us[p], 0),
          fmt(c.p99Us[p], 0),
        ]),
    )}`;
  })
  .join("\n\n")}
`);
    const s64 = b.stream["64KiB"];
    const s100 = b.stream["100B"];
    parts.push(`## Server streaming

${table(
  ["path", "64 KiB messages, MB/s", "x direct HTTP/1.1", "100 B messages, msgs/s", "x direct HTTP/1.1"],
  pathOrder
    .filter((p) => s64.mbPerSec[p] || s100.msgsPerSec[p])
    .map((p) => [
      pathLabels[p],
      fmt(s64.mbPerSec[p]),
      fmtRatio(ratio(med(s64.mbPerSec, p), med(s64.mbPerSec, "direct-h1"))),
      fmt(s100.msgsPerSec[p], 0),
      fmtRatio(ratio(med(s100.msgsPerSec, p), med(s100.msgsPerSec, "direct-h1"))),
    ]),
)}

## 4 MiB message round trip

${table(
  ["path", "ms per round trip", "x direct HTTP/1.1"],
  pathOrder
    .filter((p) => b.bigMsPerRoundTrip[p])
    .map((p) => [
      pathLabels[p],
      fmt(b.bigMsPerRoundTrip[p]),
      fmtRatio(ratio(med(b.bigMsPerRoundTrip, p), med(b.bigMsPerRoundTrip, "direct-h1"))),
    ]),
)}

## Bidi ping-pong

fetch cannot stream a request body in both directions, so only the tunnel's own
transports (the page SDK's, the page's own socket) run bidi; the raw WebSocket echo is the floor.

${table(
  ["path", "µs per round trip"],
  pathOrder.filter((p) => b.bidiUsPerRoundTrip[p]).map((p) => [pathLabels[p], fmt(b.bidiUsPerRoundTrip[p])]),
)}
`);
  }
  if (r.firefox) {
    const f = r.firefox;
    parts.push(`## Firefox ESR: sequential and sparse calls, ${f.version}

Firefox runs headless as a plain child process, driven over raw WebDriver BiDi (no
Playwright or Puppeteer network instrumentation, which adds milliseconds per fetch in
Firefox), with \`privacy.reduceTimerPrecision\` off; each page in its own window.

${sequentialSection(f)}
`);
  }
  if (r.gateway) {
    const g = r.gateway;
    parts.push(`## The gateway alone (from Node)

Calls to the grpc-js backend with 64 in flight, and one at a time: through the gateway with the tunnel's Node
client (\`createTunnelClient\` + \`createUniversalClient\` + Connect's gRPC protocol), and
straight to the backend with connect-node's HTTP/2 gRPC client. The gateway and the backend
run in child processes; CPU time is each process's \`process.cpuUsage()\` (user + system)
over the run divided by the calls.

${table(
  [
    "client",
    "calls/s (64 in flight)",
    "x direct",
    "gateway CPU µs/call",
    "backend CPU µs/call",
    "client CPU µs/call",
    "sequential µs/call",
  ],
  (["direct", "tunnel"] as const).map((k) => [
    k === "tunnel" ? "tunnel client -> gateway -> grpc-js" : "connect-node HTTP/2 -> grpc-js",
    fmt(g[k].callsPerSec, 0),
    fmtRatio(ratio(g[k].callsPerSec.median, g.direct.callsPerSec.median)),
    k === "tunnel" ? fmt(g[k].gatewayCpuUsPerCall) : "–",
    fmt(g[k].backendCpuUsPerCall),
    fmt(g[k].clientCpuUsPerCall),
    fmt(g[k].sequentialUsPerCall),
  ]),
)}
`);
  }
  if (r.idleSockets) {
    parts.push(`## Memory per idle tunnel socket

A fresh gateway process (\`--expose-gc\`) per run; a separate process opens the sockets,
each doing the SETTINGS exchange and answering PINGs. Figures are the gateway's growth
after a full GC, divided by the sockets open.

${table(
  ["sockets", "KiB RSS per socket", "KiB JS heap per socket"],
  r.idleSockets.map((s) => [
    String(s.sockets),
    fmt({
      ...s.rssBytesPerSocket,
      median: s.rssBytesPerSocket.median / 1024,
      min: s.rssBytesPerSocket.min / 1024,
      max: s.rssBytesPerSocket.max / 1024,
    }),
    fmt({
      ...s.heapBytesPerSocket,
      median: s.heapBytesPerSocket.median / 1024,
      min: s.heapBytesPerSocket.min / 1024,
      max: s.heapBytesPerSocket.max / 1024,
    }),
  ]),
)}
`);
  }
  if (r.bundles) {
    parts.push(`## Bundle size

esbuild \`--minify\` output of \`scripts/build-browser.mjs\`, gzipped with zlib level 9.

${table(
  ["bundle", "minified bytes", "min+gzip bytes"],
  r.bundles.map((x) => [x.file, String(x.minBytes), `${x.gzipBytes} (${(x.gzipBytes / 1024).toFixed(1)} KiB)`]),
)}
`);
  }
  if (r.targets) {
    parts.push(`## Targets (reported, not asserted)

${table(
  ["target", "result", "measured"],
  r.targets.map((t) => [t.name, t.met === undefined ? "n/a" : t.met ? "met" : "**missed**", t.detail]),
)}

![benchmark chart](bench.svg)
`);
  }
  return parts.join("\n");
}

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

interface Bar {
  label: string;
  value: number;
  min: number;
  max: number;
  color: string;
}

const colors: Record<PathName, string> = {
  "direct-h1": "#8c8c8c",
  "direct-h2": "#5b7fa6",
  "tunnel-fetch": "#2e9d5b",
  "tunnel-fastpath": "#57c27f",
  "page-sdk": "#1b6e3e",
  "page-sdk-grpc": "#0f4a29",
  "page-socket": "#3b8fb0",
  "page-sdk-inproc": "#6a4c9c",
  "page-socket-inproc": "#9b7fd0",
  "ws-echo": "#c9a227",
  "fetch-echo": "#d98a3a",
};

function panel(x: number, y: number, width: number, title: string, unit: string, bars: Bar[]): string {
  const labelWidth = 300;
  const barArea = width - labelWidth - 100;
  const top = Math.max(...bars.map((bar) => bar.max), ...bars.map((bar) => bar.value), 1);
  const rowHeight = 26;
  const out: string[] = [`<text x="${x}" y="${y}" font-size="14" font-weight="bold">${esc(title)}</text>`];
  bars.forEach((bar, i) => {
    const rowY = y + 14 + i * rowHeight;
    const w = (bar.value / top) * barArea;
    const x0 = x + labelWidth;
    out.push(
      `<text x="${x0 - 6}" y="${rowY + 15}" font-size="12" text-anchor="end">${esc(bar.label)}</text>`,
      `<rect x="${x0}" y="${rowY + 3}" width="${w.toFixed(1)}" height="16" fill="${bar.color}"/>`,
    );
    if (bar.max > bar.min) {
      const a = x0 + (bar.min / top) * barArea;
      const b = x0 + (bar.max / top) * barArea;
      out.push(`<line x1="${a.toFixed(1)}" x2="${b.toFixed(1)}" y1="${rowY + 11}" y2="${rowY + 11}" stroke="#222" stroke-width="1.2"/>`);
    }
    const textX = x0 + (Math.max(bar.value, bar.max) / top) * barArea + 6;
    out.push(`<text x="${textX.toFixed(1)}" y="${rowY + 15}" font-size="12">${esc(formatValue(bar.value))} ${esc(unit)}</text>`);
  });
  return out.join("\n");
}

function formatValue(v: number): string {
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

function barsFor(s: PathSummaries | undefined, paths: readonly PathName[]): Bar[] {
  if (!s) return [];
  return paths
    .filter((p) => s[p])
    .map((p) => ({ label: pathLabels[p], value: s[p]!.median, min: s[p]!.min, max: s[p]!.max, color: colors[p] }));
}

/** A hand-made SVG bar chart: sequential time per call and calls/s at 256 in flight. */
export function renderSvg(r: BenchResults): string {
  const width = 820;
  const panels: { title: string; unit: string; bars: Bar[] }[] = [];
  const b = r.browser;
  if (b) {
    const seq = barsFor(b.sequentialUsPerCall, pathOrder);
    const w = b.wasmwsUsPerCall;
    seq.push(
      w
        ? { label: "wasmws demo (same run)", value: w.median, min: w.min, max: w.max, color: "#b55" }
        : {
            label: "wasmws (its README, other machine)",
            value: wasmwsUsPerCall,
            min: wasmwsUsPerCall,
            max: wasmwsUsPerCall,
            color: "#b55",
          },
    );
    panels.push({ title: "Sequential hello-world call: µs per call (lower is better)", unit: "µs", bars: seq });
    const levels = Object.keys(b.concurrency);
    const last = levels[levels.length - 1];
    if (last) {
      const c = b.concurrency[last].callsPerSec;
      const floor = c["ws-echo"] ? `; WebSocket echo floor ${formatValue(c["ws-echo"].median)}, not drawn` : "";
      panels.push({
        title: `${last} calls in flight: calls/s (higher is better${floor})`,
        unit: "calls/s",
        bars: barsFor(
          c,
          pathOrder.filter((p) => p !== "ws-echo"),
        ),
      });
    }
    panels.push({
      title: "Server stream, 64 KiB messages: MB/s (higher is better)",
      unit: "MB/s",
      bars: barsFor(b.stream["64KiB"].mbPerSec, pathOrder),
    });
  }
  let y = 50;
  const body: string[] = [];
  for (const p of panels) {
    body.push(panel(20, y, width - 40, p.title, p.unit, p.bars));
    y += 14 + p.bars.length * 26 + 36;
  }
  const height = y;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
<text x="20" y="26" font-size="16" font-weight="bold">swtunnel benchmark, ${esc(r.date.slice(0, 10))}: median of ${r.reps} runs, whiskers min–max</text>
${body.join("\n")}
</svg>
`;
}
