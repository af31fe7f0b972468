/**
 * The worker side of the page's fetch fast path (page-sdk/fetch.ts): a port `start` that
 * carries `url` is rebuilt into the Request the page made and answered by the worker's
 * own fetch handler, so both paths give the same Response. Its body then travels on the
 * port like a tunnel response body, with empty trailers.
 */
import type { HeaderList } from "../protocol/index.js";
import type { StartMessage } from "../port/messages.js";
import { streamToIterable } from "./body.js";
import type { TunnelCallResponse } from "./types.js";

/** What the port server needs of the fetch handler (sw/fetch-handler.ts). */
export interface FetchAnswerer {
  handle(request: Request, signal?: AbortSignal): Promise<Response> | undefined;
}

/**
 * The fetch handler's answer to a fast-path `start` as a tunnel-shaped response, or
 * undefined when no route carries the request (the page then sends it itself). With the
 * gateway unreachable and fallback "network", the answer is the worker's own network
 * fetch, as in a fetch event: a request the page sent again would reach this worker's
 * fetch event and try the gateway a second time. `signal` (the page cancelled) aborts
 * the call and cancels the response body.
 */
export async function answerFetch(
  msg: StartMessage & { url: string },
  body: AsyncIterable<Uint8Array> | undefined,
  handler: FetchAnswerer,
  signal: AbortSignal,
): Promise<TunnelCallResponse | undefined> {
  const request = new Request(msg.url, {
    method: msg.method,
    headers: msg.headers,
    body: body ? await collect(body) : null,
    credentials: msg.credentials,
    redirect: msg.redirect,
  });
  const response = await handler.handle(request, signal);
  if (!response) return undefined;
  const headers: HeaderList = [];
  response.headers.forEach((value, name) => headers.push([name, value]));
  return {
    status: response.status,
    headers,
    body: response.body ? streamToIterable(response.body, signal) : EMPTY,
    trailers: () => [],
  };
}

const EMPTY: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined }) }) };

async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array<ArrayBuffer> | null> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    length += chunk.byteLength;
  }
  if (length === 0) return null;
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
