/**
 * The demo page. SayHello and Tick go through an unmodified Connect-ES client
 * (createConnectTransport, i.e. fetch), which the worker carries through the tunnel; Chat
 * (bidi streaming, which fetch cannot do) uses the page-SDK transport. Beside the tunnel,
 * the same SayHello goes directly (plain fetch, HTTP/1.1 + CORS) to a connect-node backend,
 * and a small live chart shows both latencies. `window.demo` lets
 * `npm run demo -- --headless` drive the same page.
 */
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { create } from "@bufbuild/protobuf";
import { ChatMessageSchema, DemoService, type ChatMessage } from "../gen/swtunnel/demo/v1/demo_pb.js";
import { createTunnelTransport, registerTunnel, type StatusMessage, type TunnelHandle } from "../../page-sdk/index.js";
import { LatencyChart } from "./chart.js";

/** Written into index.html by the demo server. */
interface DemoConfig {
  gateway: string;
  match: string[];
  /** A Connect backend called directly, for comparison (not matched by the worker). */
  direct?: string;
}

/** Result of one sequential run. */
interface SequentialRun {
  calls: number;
  averageUs: number;
  /** Calls the worker reports as carried through the tunnel during the run. */
  carried: number;
}

const config = (window as unknown as { DEMO_CONFIG: DemoConfig }).DEMO_CONFIG;
const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

// The unmodified client: same-origin base URL; the worker carries DemoService calls.
const fetchClient: Client<typeof DemoService> = createClient(DemoService, createConnectTransport({ baseUrl: location.origin }));
// The page-SDK transport: gRPC over a MessagePort to the worker, all four method kinds.
const sdkClient: Client<typeof DemoService> = createClient(DemoService, createTunnelTransport({ baseUrl: location.origin }));
// The direct client: another origin the worker does not match, so fetch goes to the network.
const directClient: Client<typeof DemoService> | undefined = config.direct
  ? createClient(DemoService, createConnectTransport({ baseUrl: config.direct }))
  : undefined;

let tunnel: TunnelHandle | undefined;
/** Recent latencies (ms) of each path, newest last. */
const latencies: Record<"tunnel" | "direct", number[]> = { tunnel: [], direct: [] };
const LATENCY_WINDOW = 60;
let chart: LatencyChart | undefined;

function showStatus(message: StatusMessage | { status: string }, counters?: StatusMessage["counters"]): void {
  const el = $("status");
  el.textContent = message.status;
  el.className = `status ${message.status}`;
  if (counters) {
    $("carried").textContent = String(counters.carried);
    $("port-calls").textContent = String(counters.portCalls);
    $("failed").textContent = String(counters.failed);
  }
}

function logCall(what: string, ms: number, detail: string): void {
  const li = document.createElement("li");
  li.textContent = `${new Date().toLocaleTimeString()} ${what} ${ms.toFixed(2)} ms: ${detail}`;
  const list = $("calls");
  list.prepend(li);
  while (list.childElementCount > 100) list.lastElementChild?.remove();
}

function recordLatency(path: "tunnel" | "direct", ms: number): void {
  const series = latencies[path];
  series.push(ms);
  if (series.length > LATENCY_WINDOW) series.shift();
  const sorted = [...series].sort((a, b) => a - b);
  $(`${path}-last`).textContent = `${ms.toFixed(2)} ms`;
  $(`${path}-median`).textContent = `${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} ms`;
  chart?.draw(latencies);
}

async function sayHello(name: string): Promise<string> {
  const t0 = performance.now();
  const reply = await fetchClient.sayHello({ name });
  const ms = performance.now() - t0;
  recordLatency("tunnel", ms);
  logCall("SayHello (tunnel)", ms, reply.message);
  return reply.message;
}

/** The same call, directly to the connect-node backend (no worker, no tunnel). */
async function sayHelloDirect(name: string): Promise<void> {
  if (!directClient) return;
  const t0 = performance.now();
  const reply = await directClient.sayHello({ name });
  const ms = performance.now() - t0;
  recordLatency("direct", ms);
  logCall("SayHello (direct)", ms, reply.message);
}

/** One probe a second: the tunnel, then the direct path (never both at once, so neither waits for the other). */
async function probeLatency(): Promise<void> {
  for (;;) {
    await sayHello("latency probe").catch(() => showStatus({ status: "error" }));
    await sayHelloDirect("latency probe").catch((error: unknown) => ($("direct-last").textContent = `failed: ${String(error)}`));
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

let tickAbort: AbortController | undefined;
async function startTicks(): Promise<void> {
  tickAbort = new AbortController();
  $<HTMLButtonElement>("tick-start").disabled = true;
  $<HTMLButtonElement>("tick-stop").disabled = false;
  try {
    for await (const tick of fetchClient.tick({ intervalMs: 500, count: 0 }, { signal: tickAbort.signal })) {
      const lag = Date.now() - Number(tick.timeMs);
      $("tick-out").textContent = `tick #${tick.seq} (sent ${lag} ms ago)`;
    }
  } catch (error) {
    if (!tickAbort.signal.aborted) $("tick-out").textContent = `stream failed: ${String(error)}`;
  } finally {
    $<HTMLButtonElement>("tick-start").disabled = false;
    $<HTMLButtonElement>("tick-stop").disabled = true;
  }
}

/** The open chat stream: messages are pushed into its request iterable. */
let chatSend: ((text: string) => void) | undefined;
function openChat(): (text: string) => void {
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  const sentAt: number[] = [];
  async function* requests(): AsyncIterable<ChatMessage> {
    for (;;) {
      while (queue.length > 0) yield create(ChatMessageSchema, { text: queue.shift() });
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }
  void (async () => {
    try {
      for await (const message of sdkClient.chat(requests())) {
        const ms = performance.now() - (sentAt.shift() ?? performance.now());
        const li = document.createElement("li");
        li.textContent = `${message.text} (${ms.toFixed(2)} ms)`;
        $("chat-log").append(li);
        logCall("Chat", ms, message.text);
      }
    } catch (error) {
      const li = document.createElement("li");
      li.textContent = `chat stream ended: ${String(error)}`;
      $("chat-log").append(li);
    }
    chatSend = undefined;
  })();
  return (text) => {
    sentAt.push(performance.now());
    queue.push(text);
    wake?.();
  };
}

/**
 * `calls` sequential SayHello calls with one client. With `report`, progress goes to the
 * console as "demo-progress <done> <total>" every tenth of the run and at least once a
 * second (the headless demo prints it).
 */
async function sequential(kind: "fetch" | "sdk", calls: number, report = false): Promise<SequentialRun> {
  const client = kind === "fetch" ? fetchClient : sdkClient;
  const before = tunnel ? (await tunnel.stats()).counters : undefined;
  for (let i = 0; i < 50; i++) await client.sayHello({ name: "warmup" });
  const t0 = performance.now();
  const tenth = Math.ceil(calls / 10);
  let reported = t0;
  for (let i = 0; i < calls; i++) {
    const reply = await client.sayHello({ name: "world" });
    if (reply.message !== "Hello, world!") throw new Error(`unexpected reply ${JSON.stringify(reply.message)}`);
    if (report && i + 1 < calls && ((i + 1) % tenth === 0 || performance.now() - reported > 1000)) {
      reported = performance.now();
      console.info(`demo-progress ${i + 1} ${calls}`);
    }
  }
  const averageUs = ((performance.now() - t0) * 1000) / calls;
  const after = tunnel ? (await tunnel.stats()).counters : undefined;
  const field = kind === "fetch" ? "carried" : "portCalls";
  const carried = before && after ? after[field] - before[field] : 0;
  return { calls, averageUs, carried };
}

async function runSequentialButton(kind: "fetch" | "sdk"): Promise<void> {
  $("seq-out").textContent = "running…";
  try {
    const run = await sequential(kind, 8192);
    $("seq-out").textContent = `SUCCESS running ${run.calls} transactions! (average ${run.averageUs.toFixed(2)} µs per operation)`;
  } catch (error) {
    $("seq-out").textContent = `failed: ${String(error)}`;
  }
}

async function start(): Promise<void> {
  tunnel = await registerTunnel({
    scriptUrl: "/sw.js",
    gateway: config.gateway,
    match: config.match,
    // A demo should show failures, not quietly go around the tunnel.
    fallback: "error",
    keepAlive: true,
    onStatus: (message) => showStatus(message, message.counters),
  });
  showStatus({ status: "controlled" });
  const status = await tunnel.stats();
  showStatus(status, status.counters);

  $("hello-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sayHello($<HTMLInputElement>("hello-name").value).then(
      (message) => ($("hello-out").textContent = message),
      (error: unknown) => ($("hello-out").textContent = `failed: ${String(error)}`),
    );
  });
  $("tick-start").addEventListener("click", () => void startTicks());
  $("tick-stop").addEventListener("click", () => tickAbort?.abort());
  $("chat-form").addEventListener("submit", (event) => {
    event.preventDefault();
    chatSend ??= openChat();
    chatSend($<HTMLInputElement>("chat-text").value);
  });
  $("seq-fetch").addEventListener("click", () => void runSequentialButton("fetch"));
  $("seq-sdk").addEventListener("click", () => void runSequentialButton("sdk"));
  if (!directClient) $("direct-col").hidden = true;
  if (!new URLSearchParams(location.search).has("headless")) {
    // Live latency for people watching; the headless run keeps the line quiet.
    chart = new LatencyChart($("latency-chart") as unknown as SVGSVGElement);
    void probeLatency();
  }
}

const ready = start();
ready.catch((error: unknown) => {
  $("status").textContent = `failed: ${String(error)}`;
  $("status").className = "status error";
});

/** The hooks `npm run demo -- --headless` uses. */
(window as unknown as { demo: unknown }).demo = { ready, sequential };
