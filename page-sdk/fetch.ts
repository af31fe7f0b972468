/**
 * The fetch fast path: a `fetch` that hands the page's requests to the worker over the
 * page's shared MessagePort (port-mux.ts) instead of through the browser's fetch and the
 * worker's fetch event. The worker answers each one exactly as its fetch handler would
 * (sw/port-fetch.ts): same routes, same Response, same error responses, same fallback;
 * a request it does not carry comes back as `pass` and goes to the original `fetch`,
 * untouched. `registerTunnel()` installs it on `globalThis.fetch` unless
 * `interceptFetch: false` (connect-web looks `globalThis.fetch` up at every call).
 */
import { iterableToStream } from "../sw/body.js";
import { PassToNetwork, portCall } from "./port-client.js";
import { PortMux } from "./port-mux.js";
import { onControllerChange, openWorkerPort } from "./worker-port.js";

/** The fetch requests go to when the worker does not carry them: the one before ours. */
let network: typeof fetch = globalThis.fetch;
let mux: PortMux | undefined;
/** Script URL of the worker registerTunnel() installed: only that controller is asked. */
let tunnelScript: string | undefined;

/** Statuses whose Response must have no body. */
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/**
 * A drop-in `fetch` that sends what the page's swtunnel worker carries over its
 * MessagePort, and everything else — and whatever the port cannot carry: a streamed
 * request body, a `keepalive` request, a page no worker controls — to the original
 * `fetch`, or a page controlled by any worker but the one `registerTunnel()` registered
 * in this page (another worker would never answer the port). Pass it as the `fetch`
 * option of a connect-web transport to use the fast path without patching
 * `globalThis.fetch` (`registerTunnel({ interceptFetch: false })`).
 *
 * Differences from the browser's fetch on a carried request: the Response is made on the
 * page, so its `url` is "" and its `type` "default", and all headers are readable (the
 * worker path exposes the same ones through CORS). A `Request` passed as `input` has its
 * body read whole before sending (a Request made from a stream is not detected).
 */
export const tunnelFetch: typeof fetch = async (input, init) => {
  const controller = typeof navigator !== "undefined" ? navigator.serviceWorker?.controller : undefined;
  const controlled = controller != null && controller.scriptURL === tunnelScript;
  if (!controlled || init?.body instanceof ReadableStream || init?.keepalive) return network.call(globalThis, input, init);
  const request = new Request(input, init);
  if (request.signal.aborted || request.keepalive || !/^https?:$/.test(new URL(request.url).protocol)) {
    return network.call(globalThis, request);
  }
  // The untouched request for the network: the original arguments, unless reading the
  // body below would use up the caller's Request.
  const replayCopy = input instanceof Request && request.body !== null ? request.clone() : undefined;
  const replay = (): Promise<Response> => (replayCopy ? network.call(globalThis, replayCopy) : network.call(globalThis, input, init));
  const bytes = request.body === null ? undefined : new Uint8Array(await request.arrayBuffer());
  // Ours, so that cancelling the response body also cancels the call.
  const abort = new AbortController();
  const onAbort = () => abort.abort(request.signal.reason);
  request.signal.addEventListener("abort", onAbort, { once: true });
  mux ??= new PortMux({ openPort: openWorkerPort, onWorkerChange: onControllerChange });
  let res: Awaited<ReturnType<typeof portCall>>;
  try {
    res = await portCall(
      mux,
      { url: request.url, method: request.method, header: request.headers, body: bytes && once(bytes), signal: abort.signal },
      { url: request.url, credentials: request.credentials, redirect: request.redirect },
    );
  } catch (err) {
    request.signal.removeEventListener("abort", onAbort);
    if (err instanceof PassToNetwork) return replay();
    if (abort.signal.aborted) throw abort.signal.reason;
    throw new TypeError(`swtunnel: the worker failed the request: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const ended = () => request.signal.removeEventListener("abort", onAbort);
  // An answer complete in its head message (a Connect unary) is a bytes Response, which
  // the page's client reads at once; otherwise a stream the worker keeps feeding.
  const body =
    NULL_BODY_STATUS.has(res.status) || request.method === "HEAD"
      ? null
      : res.complete
        ? (res.complete as Uint8Array<ArrayBuffer>)
        : iterableToStream(res.body, {
            onCancel: () => abort.abort(new DOMException("the response body was cancelled", "AbortError")),
            onEnd: ended,
          });
  if (!body || res.complete) ended();
  return new Response(body, { status: res.status, headers: res.header });
};

/**
 * Called by registerTunnel(): {@link tunnelFetch} asks the worker at `scriptUrl` (when it
 * controls the page), and is installed on `globalThis.fetch` (`on`) or the previous
 * `fetch` put back. Idempotent.
 */
export function interceptFetch(on: boolean, scriptUrl?: string): void {
  if (scriptUrl !== undefined) tunnelScript = scriptUrl;
  if (on && globalThis.fetch !== tunnelFetch) {
    network = globalThis.fetch;
    globalThis.fetch = tunnelFetch;
  } else if (!on && globalThis.fetch === tunnelFetch) {
    globalThis.fetch = network;
  }
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  if (bytes.byteLength > 0) yield bytes;
}
