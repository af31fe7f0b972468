/**
 * The slice of the tunnel client (client/tunnel-client.ts) the worker runtime relies on,
 * declared structurally so the routing and Response-building code can be unit tested
 * with a stand-in client.
 */
import type { HeaderList } from "../protocol/index.js";

/** One call handed to the tunnel. */
export interface TunnelCallRequest {
  method: string;
  path: string;
  headers: HeaderList | Headers;
  body?: AsyncIterable<Uint8Array> | Uint8Array | null;
  signal?: AbortSignal;
}

/** The tunnel's answer: head at once, body as frames arrive, trailers at the end. */
export interface TunnelCallResponse {
  status: number;
  headers: HeaderList;
  body: AsyncIterable<Uint8Array>;
  trailers(): HeaderList;
}

/** What the worker needs of a tunnel client. */
export interface TunnelClientLike {
  request(req: TunnelCallRequest): Promise<TunnelCallResponse>;
  readonly status: string;
  close(): void;
}

/** Options the worker passes when it creates a client for a gateway. */
export interface TunnelClientFactoryOptions {
  url: string;
  onStatus: (status: string) => void;
}

/** Creates the tunnel client for one gateway URL. */
export type TunnelClientFactory = (options: TunnelClientFactoryOptions) => TunnelClientLike;
