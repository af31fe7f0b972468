/** Types shared by the benchmark page and the Node side that drives it. */

/**
 * The ways the page can reach the backend. `tunnel-fastpath`: connect-web with the page
 * SDK's `tunnelFetch` (the MessagePort fast path, no Service Worker fetch event); it runs
 * only when the page-SDK bundle exports `tunnelFetch`. `page-sdk-grpc`: the page-SDK
 * transport through a gateway whose upstream is the grpc-js backend over gRPC.
 * `page-socket`: the page's own tunnel socket, no Service Worker (`createTunnelClient` +
 * `createTransportOverTunnel` from client/, running in the page) to the same gateway as
 * page-sdk. `page-sdk-inproc` / `page-socket-inproc`: the same two clients against
 * in-process mode (`createTunnelEndpoint`: the RPC service in the process that holds the
 * WebSocket, wasmws's architecture).
 */
export type PathName =
  | "direct-h1"
  | "direct-h2"
  | "tunnel-fetch"
  | "tunnel-fastpath"
  | "page-sdk"
  | "page-sdk-grpc"
  | "page-socket"
  | "page-sdk-inproc"
  | "page-socket-inproc"
  | "ws-echo"
  | "fetch-echo";

/** Every path, as `--paths` names them. */
export const pathNames: readonly PathName[] = [
  "direct-h1",
  "direct-h2",
  "tunnel-fetch",
  "tunnel-fastpath",
  "page-sdk",
  "page-sdk-grpc",
  "page-socket",
  "page-sdk-inproc",
  "page-socket-inproc",
  "ws-echo",
  "fetch-echo",
];

/** Where each path goes; only the paths used on a page need to be set. */
export interface PageConfig {
  /** Connect backend over HTTP/1.1 with CORS, e.g. http://127.0.0.1:1234 */
  h1Url?: string;
  /** Connect backend over HTTP/2 + TLS, e.g. https://127.0.0.1:1235 */
  h2Url?: string;
  /** The raw WebSocket echo server, ws://... (the same port echoes HTTP POST bodies). */
  echoUrl?: string;
  /** Register the ready-made tunnel worker with these options (registerTunnel). */
  tunnel?: { scriptUrl: string; gateway: string; match: string[] };
  /** Base URL the worker carries through the tunnel. */
  tunnelBaseUrl?: string;
  /** ws://.../tunnel of the standalone gateway, for page-socket (the page's own tunnel client). */
  socketUrl?: string;
  /** ws://.../tunnel of the in-process endpoint, for page-socket-inproc. */
  inprocSocketUrl?: string;
}
