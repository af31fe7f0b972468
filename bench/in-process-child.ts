/**
 * Benchmark child process running the app of in-process mode: one node:http server with
 * the tunnel endpoint attached (createTunnelEndpoint) and the demo's connect-node services
 * dispatched in process. Its CPU time is the gateway's and the backend's together.
 * `start` takes the origins to admit (`allowOrigins`, for the browser bench's pages).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Recorder, connectRoutes } from "../demo/backend/index.js";
import { createTunnelEndpoint, type TunnelEndpoint } from "../server/index.js";
import { processUsage, serveParent } from "./child.js";

let server: http.Server | undefined;
let endpoint: TunnelEndpoint | undefined;
let stopping: Promise<void> | undefined;

/** What `start` takes. */
export interface InProcessStartRequest {
  /** Page origins admitted besides the app's own (createTunnelEndpoint's allowOrigins). */
  allowOrigins?: string[];
}

async function start(request: InProcessStartRequest = {}): Promise<{ tunnelUrl: string }> {
  if (server) throw new Error("this child already runs an app");
  endpoint = createTunnelEndpoint({
    ...(request.allowOrigins ? { allowOrigins: request.allowOrigins } : {}),
    routes: connectRoutes(new Recorder({ maxIds: 100 })),
    router: { readMaxBytes: 64 << 20 },
    maxMessageBytes: 64 << 20,
    logLevel: "warn",
  });
  server = http.createServer((_req, res) => res.writeHead(404).end());
  endpoint.attach(server);
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return { tunnelUrl: `ws://127.0.0.1:${(server.address() as AddressInfo).port}${endpoint.path}` };
}

function stop(): Promise<void> {
  stopping ??= (async () => {
    await endpoint?.close(1000);
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  })();
  return stopping;
}

serveParent(
  {
    start: (body) => start(body as InProcessStartRequest | undefined),
    usage: (body) => processUsage(Boolean((body as { gc?: boolean } | undefined)?.gc)),
  },
  stop,
);
