/**
 * The real backends every test, the demo and the benchmark call: TestService and
 * DemoService served by @grpc/grpc-js and by @connectrpc/connect-node.
 */
export type { Backend, ListenOptions } from "./backend.js";
export { closeGraceMs } from "./backend.js";
export { Recorder, type CallRecord, type RecorderOptions } from "./recorder.js";
export { echoHeaderPrefix, echoTrailerName, isEchoHeader } from "./metadata-echo.js";
export { patternBytes } from "./service.js";
export { startGrpcBackend, grpcServiceDefinition, type GrpcBackendOptions } from "./grpc-server.js";
export {
  startConnectBackend,
  startConnectBackendHttp1,
  createConnectHandler,
  connectRoutes,
  type ConnectBackendOptions,
  type ConnectBackendHttp1Options,
} from "./connect-server.js";
export { applyCors, corsAllowedHeaders, corsExposedHeaders, corsMaxAgeSeconds } from "./cors.js";
export { backendKinds, parseCliArgs, startBackend, type BackendKind, type CliOptions } from "./cli.js";
