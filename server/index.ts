/**
 * `swtunnel/server`: the Node gateway. See docs/PROTOCOL.md for the tunnel protocol.
 * @module
 */
export { createGateway, type Gateway, type GatewayStats } from "./gateway.js";
export {
  createTunnelEndpoint,
  type TunnelEndpoint,
  type TunnelEndpointOptions,
  type TunnelEndpointStats,
  type UpgradeSource,
} from "./in-process.js";
export {
  DEFAULT_OPTIONS,
  OPTION_SPECS,
  OptionsError,
  resolveOptions,
  type GatewayOptions,
  type OptionKind,
  type OptionSpec,
  type ResolvedOptions,
} from "./options.js";
export {
  UpstreamError,
  type ProtocolAdapter,
  type ProxyRequest,
  type ProxyResponse,
  type Upstream,
  type UpstreamProtocol,
} from "./exchange.js";
export { EMPTY_BODY, bodyOf } from "./body.js";
export { UpstreamPool, type UpstreamPoolOptions } from "./upstream/pool.js";
export type { LogFormat } from "./log.js";
