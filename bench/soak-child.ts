/**
 * Soak child process: one gateway or one grpc-js backend on a fixed loopback port, so the
 * soak can kill and restart it at the same address and read the gateway's RSS alone.
 * Argument: "gateway" or "backend".
 */
import { startGrpcBackend, type Backend } from "../demo/backend/index.js";
import { createGateway, type Gateway, type GatewayOptions } from "../server/index.js";
import { processUsage, serveParent } from "./child.js";

const role = process.argv[2];
let gateway: Gateway | undefined;
let backend: Backend | undefined;

serveParent(
  {
    start: async (body) => {
      const { port, options } = body as { port: number; options?: GatewayOptions };
      if (role === "backend") {
        backend = await startGrpcBackend({ host: "127.0.0.1", port });
        return { url: backend.url };
      }
      gateway = await createGateway({ logLevel: "silent", ...options!, host: "127.0.0.1", port });
      return { url: gateway.url, tunnelUrl: gateway.tunnelUrl };
    },
    usage: () => processUsage(false),
    metrics: async () => (gateway ? await gateway.metrics.metrics() : ""),
    stats: () => gateway?.stats(),
  },
  async () => {
    await gateway?.close(2000);
    await backend?.close();
  },
);
