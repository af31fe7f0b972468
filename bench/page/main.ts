/**
 * The benchmark page. The Node side (bench/browser-bench.ts) loads it, calls
 * `swbench.init(config)` and then one workload at a time through Runtime.evaluate; each
 * returns plain numbers.
 */
import { createConnectTransport } from "@connectrpc/connect-web";
import { createTransportOverTunnel, createTunnelClient } from "../../client/index.js";
import * as pageSdk from "../../page-sdk/index.js";
import { connectBenchClient, fetchEchoBenchClient, wsEchoBenchClient } from "./clients.js";
import type { PageConfig, PathName } from "./types.js";
import { bidiPingPong, bigRoundTrip, concurrent, sequential, sparse, stream, type BenchClient } from "./workloads.js";

const { createTunnelTransport, registerTunnel } = pageSdk;
/**
 * The fast path (issue 10 part 1, branch i10-fastpath): the page SDK's port-backed fetch,
 * looked up by name so this page builds and runs before and after that branch is merged;
 * the `tunnel-fastpath` path runs only when it exists.
 */
// Reflect.get, not a property read: esbuild warns about a missing named export otherwise.
const tunnelFetch = Reflect.get(pageSdk, "tunnelFetch") as typeof fetch | undefined;

const clients = new Map<PathName, BenchClient>();
let config: PageConfig = {};

async function init(next: PageConfig): Promise<{ isolated: boolean; visibility: string; fastPath: boolean }> {
  config = next;
  clients.clear();
  if (config.tunnel) {
    // fallback "error": a call the tunnel cannot carry fails instead of silently going direct.
    // interceptFetch false: the global fetch stays the browser's, so tunnel-fetch keeps
    // measuring the worker's fetch event; the fast path is measured through tunnelFetch.
    // (A variable, not a literal: the option does not exist before the fast path is merged.)
    const options = { ...config.tunnel, scope: "/", fallback: "error" as const, interceptFetch: false };
    await registerTunnel(options);
  }
  return { isolated: crossOriginIsolated, visibility: document.visibilityState, fastPath: tunnelFetch !== undefined };
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
    case "tunnel-fastpath":
      if (!tunnelFetch) throw new Error("this page-SDK build has no tunnelFetch (the fast path)");
      made = connectBenchClient(
        createConnectTransport({ baseUrl: need(config.tunnelBaseUrl, "tunnelBaseUrl"), useBinaryFormat: true, fetch: tunnelFetch }),
        { bidi: false },
      );
      break;
    case "page-sdk":
    case "page-sdk-grpc":
    case "page-sdk-inproc":
      made = connectBenchClient(createTunnelTransport({ baseUrl: need(config.tunnelBaseUrl, "tunnelBaseUrl"), useBinaryFormat: true }), {
        bidi: true,
      });
      break;
    case "page-socket":
    case "page-socket-inproc": {
      // The page's own tunnel socket: the client/ package in the page, no worker, no MessagePort.
      const url = path === "page-socket" ? need(config.socketUrl, "socketUrl") : need(config.inprocSocketUrl, "inprocSocketUrl");
      made = connectBenchClient(createTransportOverTunnel({ client: createTunnelClient({ url, WebSocket }), useBinaryFormat: true }), {
        bidi: true,
      });
      break;
    }
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
  sparse: async (path: PathName, n: number, gapMs: number, warmup: number) => sparse(await client(path), n, gapMs, warmup),
  stream: async (path: PathName, size: number, count: number) => stream(await client(path), size, count),
  bigRoundTrip: async (path: PathName, bytes: number, rounds: number) => bigRoundTrip(await client(path), bytes, rounds),
  bidiPingPong: async (path: PathName, n: number, warmup: number) => bidiPingPong(await client(path), n, warmup),
};

/** The page's API as the Node side sees it. */
export type SwBench = typeof api;

(globalThis as unknown as { swbench: SwBench }).swbench = api;
