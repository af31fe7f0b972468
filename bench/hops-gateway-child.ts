/**
 * The latency-budget benchmark's gateway process: bench/gateway-child.ts's gateway with
 * the trace hook recording on process.hrtime, and a "marks" op that returns (and clears)
 * the gateway's marks.
 */
import { createGateway, type Gateway, type GatewayOptions } from "../server/index.js";
import { serveParent } from "./child.js";
import { installHopRecorder } from "./hops-recorder.js";

const recorder = installHopRecorder(() => Number(process.hrtime.bigint()) / 1000);
let gateway: Gateway | undefined;

serveParent(
  {
    async start(body) {
      gateway = await createGateway({ logLevel: "warn", ...(body as GatewayOptions), port: 0 });
      return { tunnelUrl: gateway.tunnelUrl };
    },
    marks() {
      const marks = recorder.marks();
      recorder.reset();
      return marks;
    },
  },
  () => gateway?.close(1000),
);
