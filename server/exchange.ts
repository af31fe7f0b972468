/**
 * The gateway's internal HTTP exchange: what a tunnel stream becomes once demultiplexed,
 * what a protocol adapter transforms, and what the HTTP/2 upstream pool executes.
 * Bodies are async iterables so that back-pressure runs end to end: the gateway pulls a
 * response chunk only when the tunnel window has room, and the upstream pool reads the
 * HTTP/2 stream only when pulled.
 */
import type { HeaderList } from "../protocol/index.js";

/** A request as it travels from the tunnel to the upstream. */
export interface ProxyRequest {
  method: string;
  /** Path and query, e.g. `/pkg.Service/Method`. */
  path: string;
  headers: HeaderList;
  /** Body chunks as they arrive; ends at the client's half-close. */
  body: AsyncIterable<Uint8Array>;
  /** Aborted when the client resets the stream or the socket is lost. */
  signal: AbortSignal;
}

/** A response as it travels from the upstream back to the tunnel. */
export interface ProxyResponse {
  status: number;
  headers: HeaderList;
  /** Body chunks; pulled as the tunnel's flow-control window allows. */
  body: AsyncIterable<Uint8Array>;
  /** Trailers; complete once `body` has been iterated to its end. */
  trailers(): HeaderList;
  /**
   * The call's gRPC status code ("0".."16") when the client's protocol carries it inside the
   * body (a gRPC-Web trailer frame, a Connect end-stream message), for logs, metrics and
   * spans; known once `body` has been iterated to its end.
   */
  rpcStatus?(): string | undefined;
}

/** Executes a request against the upstream (the HTTP/2 pool implements it). */
export type Upstream = (request: ProxyRequest) => Promise<ProxyResponse>;

/** What the configured upstream speaks. */
export type UpstreamProtocol = "grpc" | "connect";

/**
 * Turns one client protocol into what the upstream speaks, and the answer back.
 * Adapters answer failures in the client's own protocol (a gRPC status, a Connect error
 * JSON) whenever the response head has not gone out yet.
 */
export interface ProtocolAdapter {
  readonly name: string;
  /** True when this adapter takes the request (by content type and method). */
  matches(request: ProxyRequest, upstreamProtocol: UpstreamProtocol): boolean;
  handle(request: ProxyRequest, upstream: Upstream): Promise<ProxyResponse>;
}

/**
 * Thrown by an Upstream when the request could not be carried at the transport level.
 * `code` is a Connect code name such as `unavailable`, `canceled` or `internal`.
 */
export class UpstreamError extends Error {
  override readonly name = "UpstreamError";
  constructor(
    readonly code: "unavailable" | "canceled" | "internal" | "deadline_exceeded" | "resource_exhausted",
    message: string,
  ) {
    super(message);
  }
}
