/** What every connection and stream of one gateway shares. */
import type { Logger } from "pino";
import type { ProtocolAdapter, Upstream } from "./exchange.js";
import type { GatewayMetrics } from "./metrics.js";
import type { ResolvedOptions } from "./options.js";

export interface GatewayContext {
  readonly options: ResolvedOptions;
  readonly adapters: readonly ProtocolAdapter[];
  readonly upstream: Upstream;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
}
