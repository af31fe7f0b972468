/**
 * Adapter from a tunnel client to Connect-ES's `UniversalClientFn`, so that Connect's own
 * transports (`createTransport` from `@connectrpc/connect/protocol-grpc`,
 * `/protocol-connect`, `/protocol-grpc-web`) run over the tunnel unchanged.
 * The one sw/ module that imports @connectrpc/connect at run time: the Service Worker
 * bundle does not include it.
 */
import { ConnectError, type Code as ConnectCode } from "@connectrpc/connect";
import type { UniversalClientFn, UniversalClientRequest, UniversalClientResponse } from "@connectrpc/connect/protocol";
import { TunnelError } from "./errors.js";
import type { HeaderList, TunnelClient } from "./types.js";

/**
 * A `UniversalClientFn` that sends each request as a tunnel stream. Only the path and
 * query of `url` are used: the gateway has one upstream, so the origin is ignored.
 * `trailer` is filled when the response body ends.
 */
export function createUniversalClient(client: TunnelClient): UniversalClientFn {
  return async (req: UniversalClientRequest): Promise<UniversalClientResponse> => {
    const url = new URL(req.url, "http://tunnel.invalid");
    const res = await client
      .request({
        method: req.method,
        path: url.pathname + url.search,
        headers: req.header,
        body: req.body ?? null,
        signal: req.signal,
      })
      .catch((e: unknown) => {
        throw toConnectError(e);
      });
    const trailer = new Headers();
    return {
      status: res.status,
      header: toHeaders(res.headers),
      body: withTrailers(res.body, () => {
        for (const [name, value] of res.trailers()) trailer.append(name, value);
      }),
      trailer,
    };
  };
}

function toHeaders(list: HeaderList): Headers {
  const headers = new Headers();
  for (const [name, value] of list) headers.append(name, value);
  return headers;
}

/** Yields `body`, then calls `onEnd` once it ended normally (trailers are complete then). */
async function* withTrailers(body: AsyncIterable<Uint8Array>, onEnd: () => void): AsyncIterable<Uint8Array> {
  try {
    yield* body;
  } catch (e) {
    throw toConnectError(e);
  }
  onEnd();
}

/**
 * A TunnelError as a real ConnectError (same code, message, metadata and cause), so that
 * Connect-ES callers get `findDetails` and the exact class; anything else unchanged.
 */
export function toConnectError(e: unknown): unknown {
  if (!(e instanceof TunnelError)) return e;
  return new ConnectError(e.rawMessage, e.code as number as ConnectCode, e.metadata, undefined, e.cause);
}
