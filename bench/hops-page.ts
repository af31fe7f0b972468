/**
 * The latency-budget benchmark page: sequential hello calls over the page SDK or the
 * worker's fetch path, each call bracketed by `p.call` / `p.done`, with the page's and the
 * worker's trace hooks recording. Driven over CDP by bench/hops.ts.
 */
import { createConnectTransport } from "@connectrpc/connect-web";
import { createClient } from "@connectrpc/connect";
import { createTunnelTransport, registerTunnel } from "../page-sdk/index.js";
import { DemoService } from "../demo/gen/swtunnel/demo/v1/demo_pb.js";
import { traceHook } from "../protocol/trace.js";
import { HOPS_MESSAGE, browserNowUs, installHopRecorder, type HopMarks } from "./hops-recorder.js";

/** The paths the budget covers. */
export type HopsPath = "page-sdk" | "tunnel-fetch";

const recorder = installHopRecorder(browserNowUs);
let baseUrl = "";
const clients = new Map<HopsPath, ReturnType<typeof createClient<typeof DemoService>>>();

async function init(config: { scriptUrl: string; gateway: string; baseUrl: string }): Promise<{ isolated: boolean }> {
  baseUrl = config.baseUrl;
  await registerTunnel({ scriptUrl: config.scriptUrl, gateway: config.gateway, match: [`${baseUrl}/`], scope: "/", fallback: "error" });
  return { isolated: crossOriginIsolated };
}

function client(path: HopsPath) {
  let made = clients.get(path);
  if (!made) {
    const transport =
      path === "page-sdk"
        ? createTunnelTransport({ baseUrl, useBinaryFormat: true })
        : createConnectTransport({ baseUrl, useBinaryFormat: true });
    made = createClient(DemoService, transport);
    clients.set(path, made);
  }
  return made;
}

function worker(op: "reset" | "dump"): Promise<HopMarks> {
  const controller = navigator.serviceWorker.controller;
  if (!controller) throw new Error("the benchmark page has no controlling worker");
  const channel = new MessageChannel();
  const reply = new Promise<HopMarks>((resolve) => {
    channel.port1.onmessage = (event) => resolve(event.data as HopMarks);
  });
  controller.postMessage({ type: HOPS_MESSAGE, op }, [channel.port2]);
  return reply;
}

/** `n` untimed calls; then the page's and the worker's marks are cleared. */
async function warm(path: HopsPath, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await client(path).sayHello({ name: "warmup" });
  await worker("reset");
  recorder.reset();
}

/** `n` traced calls; resolves with the page's and the worker's marks (both cleared). */
async function run(path: HopsPath, n: number): Promise<{ page: HopMarks; worker: HopMarks; usPerCall: number }> {
  const c = client(path);
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    traceHook?.("p.call");
    await c.sayHello({ name: "world" });
    traceHook?.("p.done");
  }
  const usPerCall = ((performance.now() - start) * 1000) / n;
  const page = recorder.marks();
  recorder.reset();
  return { page, worker: await worker("dump"), usPerCall };
}

(globalThis as unknown as { hops: unknown }).hops = { init, warm, run };
