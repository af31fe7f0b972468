/**
 * The benchmark page. The Node side (bench/browser-bench.ts) loads it, calls
 * `swbench.init(config)` and then one workload at a time through Runtime.evaluate; each
 * returns plain numbers.
 */
import { createConnectTransport } from "@connectrpc/connect-web";
import { createTunnelTransport, registerTunnel } from "../../page-sdk/index.js";
import { connectBenchClient, fetchEchoBenchClient, wsEchoBenchClient } from "./clients.js";
import type { PageConfig, PathName } from "./types.js";
import { bidiPingPong, bigRoundTrip, concurrent, sequential, stream, type BenchClient } from "./workloads.js";

const clients = new Map<PathName, BenchClient>();
let config: PageConfig = {};

async function init(next: PageConfig): Promise<{ isolated: boolean; visibility: string }> {
  config = next;
  clients.clear();
  if (config.tunnel) {
    // fallback "error": a call the tunnel cannot carry fails instead of silently going direct.
    await registerTunnel({ ...config.tunnel, scope: "/", fallback: "error" });
  }
  return { isolated: crossOriginIsolated, visibility: document.visibilityState };
}

async function client(path: PathName): Promise<BenchClient> {
  const existing = clients.get(path);
  if (existing) return existing;
  let made: BenchClient;
  switch (path) {
    case "direct-h1":
      made = connectBenchClient(createConnectTransport({ baseUrl: need(config.h1Url, "h1Url"), useBinaryFormat: true }), { bidi: false });
      break;
    case "direct-h2":
      made = connectBenchClient(createConnectTransport({ baseUrl: need(config.h2Url, "h2Url"), useBinaryFormat: true }), { bidi: false });
      break;
    case "tunnel-fetch":
      // The unmodified fetch-based client: the worker intercepts its requests.
      made = connectBenchClient(createConnectTransport({ baseUrl: need(config.tunnelBaseUrl, "tunnelBaseUrl"), useBinaryFormat: true }), {
        bidi: false,
      });
      break;
    case "page-sdk":
      made = connectBenchClient(createTunnelTransport({ baseUrl: need(config.tunnelBaseUrl, "tunnelBaseUrl"), useBinaryFormat: true }), {
        bidi: true,
      });
      break;
    case "ws-echo":
      made = await wsEchoBenchClient(need(config.echoUrl, "echoUrl"));
      break;
    case "fetch-echo":
      made = fetchEchoBenchClient(need(config.echoUrl, "echoUrl").replace(/^ws/, "http"));
      break;
  }
  clients.set(path, made);
  return made;
}

function need(value: string | undefined, name: string): string {
  if (!value) throw new Error(`the page was not configured with ${name}`);
  return value;
}

const api = {
  init,
  sequential: async (path: PathName, n: number, warmup: number) => sequential(await client(path), n, warmup),
  concurrent: async (path: PathName, total: number, inflight: number, warmup: number) =>
    concurrent(await client(path), total, inflight, warmup),
  stream: async (path: PathName, size: number, count: number) => stream(await client(path), size, count),
  bigRoundTrip: async (path: PathName, bytes: number, rounds: number) => bigRoundTrip(await client(path), bytes, rounds),
  bidiPingPong: async (path: PathName, n: number, warmup: number) => bidiPingPong(await client(path), n, warmup),
};

/** The page's API as the Node side sees it. */
export type SwBench = typeof api;

(globalThis as unknown as { swbench: SwBench }).swbench = api;
