/**
 * A Connect `UniversalClientFn` whose I/O is the worker's MessagePort protocol
 * (sw/worker/port-protocol.ts): one port per call, request body as transferred
 * ArrayBuffers under the worker's credit, response body as an async iterable that
 * returns credit as Connect consumes it, trailers, abort -> cancel.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalClientFn, UniversalClientRequest, UniversalClientResponse } from "@connectrpc/connect/protocol";
import { codeFromString } from "@connectrpc/connect/protocol-connect";
import type { HeaderList } from "../protocol/index.js";
import { ChunkQueue } from "../sw/worker/chunk-queue.js";
import {
  CreditGate,
  PORT_DEAD_AFTER_MS,
  parseWorkerMessage,
  splitChunk,
  toTransferable,
  type PageMessage,
} from "../sw/worker/port-protocol.js";
import type { PortLike } from "../sw/worker/port-server.js";

/** Options of {@link createPortClient}. */
export interface PortClientOptions {
  /** Opens a fresh port to the worker (page-sdk: a MessageChannel posted to the controller). */
  openPort: () => Promise<PortLike>;
  /** Gateway URL the worker should use; default: the worker's. */
  gateway?: string;
  /** Fail a call with `unavailable` after this long without any message from the worker. */
  deadAfterMs?: number;
}

export function createPortClient(options: PortClientOptions): UniversalClientFn {
  const deadAfterMs = options.deadAfterMs ?? PORT_DEAD_AFTER_MS;
  return async (req: UniversalClientRequest): Promise<UniversalClientResponse> => {
    if (req.signal?.aborted) throw abortError(req.signal);
    const port = await options.openPort();
    const id = 1;
    const post = (m: PageMessage, transfer: Transferable[] = []) => port.postMessage(m, transfer);
    const body = new ChunkQueue((n) => {
      if (!done) post({ type: "credit", id, bytes: n });
    });
    const gate = new CreditGate();
    const trailer = new Headers();
    let done = false;
    let lastSeen = Date.now();
    let headResolve!: (r: UniversalClientResponse) => void;
    let headReject!: (e: unknown) => void;
    let headSettled = false;
    const head = new Promise<UniversalClientResponse>((res, rej) => {
      headResolve = res;
      headReject = rej;
    });

    const finish = (error?: unknown) => {
      if (done) return;
      done = true;
      clearInterval(watchdog);
      req.signal?.removeEventListener("abort", onAbort);
      if (error !== undefined) {
        gate.fail(error);
        body.fail(error);
        if (!headSettled) {
          headSettled = true;
          headReject(error);
        }
      } else {
        gate.fail(new Error("call ended"));
      }
      port.close();
    };

    const onAbort = () => {
      if (done) return;
      try {
        post({ type: "cancel", id });
      } catch {
        // The port is gone already.
      }
      finish(abortError(req.signal!));
    };
    req.signal?.addEventListener("abort", onAbort);

    // A stopped worker closes its end silently; without this watchdog the call would hang.
    const watchdog = setInterval(() => {
      if (Date.now() - lastSeen > deadAfterMs) {
        finish(new ConnectError(`swtunnel: the service worker stopped answering for ${deadAfterMs} ms; the call was lost, retry it`, Code.Unavailable));
      }
    }, Math.max(50, Math.floor(deadAfterMs / 4)));

    port.addEventListener("message", (event: MessageEvent) => {
      lastSeen = Date.now();
      const msg = parseWorkerMessage(event.data);
      if (!msg || done) return;
      if (msg.type === "alive") return;
      if (msg.id !== id) return;
      switch (msg.type) {
        case "head":
          if (headSettled) return;
          headSettled = true;
          headResolve({ status: msg.status, header: toHeaders(msg.headers), body, trailer });
          break;
        case "data":
          body.push(new Uint8Array(msg.bytes));
          break;
        case "trailers":
          for (const [name, value] of msg.trailers) trailer.append(name, value);
          body.end();
          finish();
          break;
        case "error":
          finish(new ConnectError(msg.message, codeFromString(msg.code) ?? Code.Unknown));
          break;
        case "credit":
          gate.grant(msg.bytes);
          break;
      }
    });
    port.start?.();

    // Only the path and query travel: the worker's gateway has one upstream.
    const url = new URL(req.url, "http://swtunnel.invalid");
    post({
      type: "start",
      id,
      gateway: options.gateway,
      method: req.method,
      path: url.pathname + url.search,
      headers: toHeaderList(req.header),
      hasBody: req.body !== undefined,
    });
    if (req.body) void pumpBody(req.body, gate, post, id, () => done).catch((e) => finish(ConnectError.from(e)));
    return head;
  };
}

async function pumpBody(
  source: AsyncIterable<Uint8Array>,
  gate: CreditGate,
  post: (m: PageMessage, transfer?: Transferable[]) => void,
  id: number,
  isDone: () => boolean,
): Promise<void> {
  for await (const chunk of source) {
    for (const piece of splitChunk(chunk)) {
      try {
        await gate.take(piece.byteLength);
      } catch {
        return; // The call ended; the rest of the body is not needed.
      }
      if (isDone()) return;
      const bytes = toTransferable(piece);
      post({ type: "data", id, bytes }, [bytes]);
    }
  }
  if (!isDone()) post({ type: "end", id });
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new ConnectError("the call was aborted", Code.Canceled);
}

function toHeaders(list: HeaderList): Headers {
  const headers = new Headers();
  for (const [name, value] of list) headers.append(name, value);
  return headers;
}

function toHeaderList(headers: Headers): HeaderList {
  const list: HeaderList = [];
  headers.forEach((value, name) => list.push([name, value]));
  return list;
}
