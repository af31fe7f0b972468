/**
 * Benchmark child process running one gateway, so its CPU time (process.cpuUsage) and
 * memory (RSS) are the gateway's alone. Started with --expose-gc so memory is measured
 * after a full collection.
 */
import { createGateway, type Gateway, type GatewayOptions } from "../server/index.js";
import { processUsage, serveParent } from "./child.js";

let gateway: Gateway | undefined;
let stopping: Promise<void> | undefined;

async function start(options: GatewayOptions): Promise<{ url: string; tunnelUrl: string }> {
  if (gateway) throw new Error("this child already runs a gateway");
  gateway = await createGateway({ logLevel: "warn", ...options, port: 0 });
  return { url: gateway.url, tunnelUrl: gateway.tunnelUrl };
}

function stop(): Promise<void> {
  stopping ??= gateway ? gateway.close(1000) : Promise.resolve();
  return stopping;
}

serveParent(
  {
    start: (body) => start(body as GatewayOptions),
    usage: (body) => processUsage(Boolean((body as { gc?: boolean } | undefined)?.gc)),
    stats: () => gateway?.stats(),
  },
  stop,
);
