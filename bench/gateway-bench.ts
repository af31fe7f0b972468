/**
 * The gateway alone, measured from Node: the tunnel's own Node client (createTunnelClient
 * + createUniversalClient + Connect's gRPC protocol) through the gateway to the grpc-js
 * backend, against connect-node's HTTP/2 gRPC client straight to the same backend. The
 * backend and the gateway run in child processes so their CPU time is theirs alone.
 */
import { createClient, type Transport } from "@connectrpc/connect";
import { createTransport } from "@connectrpc/connect/protocol-grpc";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { WebSocket } from "ws";
import { DemoService } from "../demo/gen/swtunnel/demo/v1/demo_pb.js";
import { createTunnelClient, createUniversalClient, type WebSocketConstructorLike } from "../client/index.js";
import type { Child } from "./child.js";

/** One run of one client against the gateway or the backend. */
export interface GatewayRun {
  callsPerSec: number;
  /** CPU time (user + system) per call, µs, of each process. */
  gatewayCpuUsPerCall: number;
  backendCpuUsPerCall: number;
  clientCpuUsPerCall: number;
}

interface Usage {
  userUs: number;
  systemUs: number;
  rss: number;
  heapUsed: number;
}

/** A Connect transport through the tunnel to `tunnelUrl` (ws://host:port/tunnel). */
export function tunnelTransport(tunnelUrl: string): { transport: Transport; close(): void } {
  const client = createTunnelClient({ url: tunnelUrl, WebSocket: WebSocket as unknown as WebSocketConstructorLike });
  const transport = createTransport({
    httpClient: createUniversalClient(client),
    baseUrl: "http://gateway.invalid",
    useBinaryFormat: true,
    interceptors: [],
    acceptCompression: [],
    sendCompression: null,
    compressMinBytes: 1024,
    readMaxBytes: 0xffffffff,
    writeMaxBytes: 0xffffffff,
  });
  return { transport, close: () => client.close() };
}

/** connect-node's gRPC transport over HTTP/2 straight to `backendUrl`. */
export function directTransport(backendUrl: string): Transport {
  return createGrpcTransport({ baseUrl: backendUrl });
}

/** `total` SayHello calls with `inflight` outstanding; CPU of every process around it. */
export async function measureCalls(
  transport: Transport,
  total: number,
  inflight: number,
  processes: { gateway?: Child; backend: Child },
): Promise<GatewayRun> {
  const client = createClient(DemoService, transport);
  // Warm up: connections, JIT.
  await Promise.all(Array.from({ length: inflight }, () => client.sayHello({ name: "warmup" })));
  const before = await usages(processes);
  const clientBefore = process.cpuUsage();
  const start = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      next++;
      await client.sayHello({ name: "world" });
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  const elapsedMs = performance.now() - start;
  const clientCpu = process.cpuUsage(clientBefore);
  const after = await usages(processes);
  const cpu = (a?: Usage, b?: Usage): number => (a && b ? (b.userUs + b.systemUs - a.userUs - a.systemUs) / total : 0);
  return {
    callsPerSec: total / (elapsedMs / 1000),
    gatewayCpuUsPerCall: cpu(before.gateway, after.gateway),
    backendCpuUsPerCall: cpu(before.backend, after.backend),
    clientCpuUsPerCall: (clientCpu.user + clientCpu.system) / total,
  };
}

async function usages(processes: { gateway?: Child; backend: Child }): Promise<{ gateway?: Usage; backend: Usage }> {
  const [gateway, backend] = await Promise.all([processes.gateway?.request<Usage>("usage"), processes.backend.request<Usage>("usage")]);
  return { gateway, backend };
}
