/**
 * A Connect `UniversalClientFn` whose I/O is the worker's MessagePort protocol
 * (port/messages.ts): all calls share one port (see port-mux.ts), the request
 * body travels as transferred ArrayBuffers under the worker's credit (a body that is
 * complete at once rides in the `start` message), the response body is an async
 * iterable that returns credit as Connect consumes it, trailers, abort -> cancel.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalClientFn, UniversalClientRequest, UniversalClientResponse } from "@connectrpc/connect/protocol";
import { codeFromString } from "@connectrpc/connect/protocol-connect";
import type { HeaderList } from "../protocol/index.js";
import { ChunkQueue } from "../port/chunk-queue.js";
import { CreditBatcher, CreditGate, joinChunks, PORT_WINDOW, splitChunk, toTransferable, type StartMessage } from "../port/messages.js";
import type { PortLike } from "../port/port-like.js";
import { PortMux, type CallHandler, type PortLink } from "./port-mux.js";
import { traceHook } from "../protocol/trace.js";

/** Options of {@link createPortClient}. */
export interface PortClientOptions {
  /** Opens a fresh port to the worker (page-sdk: a MessageChannel posted to the controller). */
  openPort: () => Promise<PortLike>;
  /** Gateway URL the worker should use; default: the worker's. */
  gateway?: string;
  /** Fail a call with `unavailable` after this long without any message from the worker. */
  deadAfterMs?: number;
  /** Subscribes to "the page's worker changed": new calls then open a fresh port. */
  onWorkerChange?: (listener: () => void) => void;
}

/**
 * How many microtask hops a request body gets to finish before `start` is sent without
 * it: Connect's unary and server-streaming bodies (a pipe of async generators over one
 * message) finish well within this; a streaming body that waits for the app does not.
 */
const READ_AHEAD_HOPS = 64;

export function createPortClient(options: PortClientOptions): UniversalClientFn {
  const mux = new PortMux(options);
  return (req) => portCall(mux, req, { gateway: options.gateway });
}

/** What a fast-path `start` adds (see port/messages.ts): the worker answers as its fetch handler. */
export type StartExtra = Pick<StartMessage, "gateway" | "url" | "credentials" | "redirect">;

/**
 * The error a call fails with when the worker answered `pass`: the page sends the
 * request to the network itself (page-sdk/fetch.ts).
 */
export class PassToNetwork extends Error {
  constructor() {
    super("swtunnel: the worker does not carry this request");
  }
}

/** One call on the mux's current port. */
/** A port call's answer; `complete` when the worker's first message carried all of it. */
export interface PortCallResponse extends UniversalClientResponse {
  /** The whole body, when the call had ended by its head message (a Connect unary answer). */
  complete?: Uint8Array;
}

export async function portCall(mux: PortMux, req: UniversalClientRequest, extra: StartExtra): Promise<PortCallResponse> {
  if (req.signal?.aborted) throw abortError(req.signal);
  let link = await mux.link();
  let resends = 0;
  const gate = new CreditGate();
  const trailer = new Headers();
  let done = false;
  let headResolve!: (r: PortCallResponse) => void;
  let headReject!: (e: unknown) => void;
  let headSettled = false;
  const head = new Promise<PortCallResponse>((res, rej) => {
    headResolve = res;
    headReject = rej;
  });

  const finish = (error?: unknown) => {
    if (done) return;
    done = true;
    req.signal?.removeEventListener("abort", onAbort);
    link.remove(id);
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
  };
  const end = (trailers: HeaderList) => {
    for (const [name, value] of trailers) trailer.append(name, value);
    body.end();
    finish();
  };

  const handler: CallHandler = {
    fail: (error) => finish(error),
    // The worker was gone before it accepted `start` (whole body inside): a fresh port.
    resend(sent) {
      if (done) return;
      if (++resends > 2) {
        finish(new ConnectError("swtunnel: the service worker was stopped; the call was lost, retry it", Code.Unavailable));
        return;
      }
      mux.link().then(
        (next) => {
          if (done) return;
          link = next;
          id = next.add(handler);
          const { ack: _, ...again } = sent;
          next.post({ ...again, id });
        },
        (e: unknown) => finish(ConnectError.from(e, Code.Unavailable)),
      );
    },
    message(msg) {
      if (done) return;
      switch (msg.type) {
        case "head":
          if (headSettled) return;
          traceHook?.("p.head");
          headSettled = true;
          for (const bytes of msg.body ?? []) body.push(new Uint8Array(bytes));
          if (msg.trailers) end(msg.trailers);
          headResolve({
            status: msg.status,
            header: toHeaders(msg.headers),
            body,
            trailer,
            complete: msg.trailers ? joinChunks(msg.body ?? []) : undefined,
          });
          break;
        case "data":
          body.push(new Uint8Array(msg.bytes));
          break;
        case "trailers":
          end(msg.trailers);
          break;
        case "error":
          finish(new ConnectError(msg.message, codeFromString(msg.code) ?? Code.Unknown));
          break;
        case "credit":
          gate.grant(msg.bytes);
          break;
        case "pass":
          finish(new PassToNetwork());
          break;
      }
    },
  };
  let id = link.add(handler);
  const credit = new CreditBatcher((bytes) => {
    if (!done) safePost(link, { type: "credit", id, bytes });
  });
  const body = new ChunkQueue((n) => credit.consumed(n));

  const onAbort = () => {
    if (done) return;
    safePost(link, { type: "cancel", id });
    finish(abortError(req.signal!));
  };
  req.signal?.addEventListener("abort", onAbort);

  // Only the path and query travel: the worker's gateway has one upstream.
  const url = new URL(req.url, "http://swtunnel.invalid");
  const start: StartMessage = {
    ...extra,
    type: "start",
    id,
    method: req.method,
    path: url.pathname + url.search,
    headers: toHeaderList(req.header),
    hasBody: req.body !== undefined,
  };
  if (!req.body) {
    traceHook?.("p.post");
    link.post(start);
    return head;
  }
  void sendWithBody(req.body, start, gate, link, () => done).catch((e) => {
    if (!done) safePost(link, { type: "cancel", id });
    finish(ConnectError.from(e));
  });
  return head;
}

/** Sends `start` with whatever of the body is ready within a few microtasks, then the rest. */
async function sendWithBody(
  source: AsyncIterable<Uint8Array>,
  start: StartMessage,
  gate: CreditGate,
  link: PortLink,
  isDone: () => boolean,
): Promise<void> {
  const it = source[Symbol.asyncIterator]();
  const first: ArrayBuffer[] = [];
  const rest: Uint8Array[] = [];
  let gathered = 0;
  let next = it.next();
  const deadline = afterMicrotasks(READ_AHEAD_HOPS);
  for (;;) {
    const r = await Promise.race([next, deadline]);
    if (r === LATE) break;
    if (r.done) {
      start.end = true;
      break;
    }
    for (const piece of splitChunk(r.value)) {
      // Beyond half the window the rest goes as data messages under credit, after start.
      if (gathered >= PORT_WINDOW / 2) {
        rest.push(piece);
        continue;
      }
      await gate.take(piece.byteLength); // under the window: never waits
      first.push(toTransferable(piece));
      gathered += piece.byteLength;
    }
    next = it.next();
    if (gathered >= PORT_WINDOW / 2) break;
  }
  if (isDone()) return;
  if (first.length > 0) start.body = first;
  traceHook?.("p.post");
  link.post(start, first);
  if (start.end) return;
  const send = async (chunk: Uint8Array): Promise<boolean> => {
    for (const piece of splitChunk(chunk)) {
      try {
        await gate.take(piece.byteLength);
      } catch {
        return false; // The call ended; the rest of the body is not needed.
      }
      if (isDone()) return false;
      const bytes = toTransferable(piece);
      link.post({ type: "data", id: start.id, bytes }, [bytes]);
    }
    return true;
  };
  for (const piece of rest) if (!(await send(piece))) return;
  for (let r = await next; !r.done; r = await it.next()) if (!(await send(r.value))) return;
  if (!isDone()) link.post({ type: "end", id: start.id });
}

const LATE: unique symbol = Symbol("late");

function afterMicrotasks(n: number): Promise<typeof LATE> {
  let p: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < n; i++) p = p.then();
  return p.then(() => LATE);
}

function safePost(link: PortLink, message: Parameters<PortLink["post"]>[0]): void {
  try {
    link.post(message);
  } catch {
    // The port is gone already.
  }
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
