/**
 * Serves page-sdk calls over a MessagePort (see port-protocol.ts): each `start` becomes
 * one tunnel stream through the worker's shared client for the gateway. A page keeps one
 * port for many calls; the head of a reply carries the response body and trailers that
 * are ready by the next task, so a unary call answers with one message. A `start` with
 * `url` is the page's fetch fast path, answered by the fetch handler (port-fetch.ts).
 */
import { codeToString } from "../client/code.js";
import { toTunnelError } from "../client/errors.js";
import { ChunkQueue } from "../port/chunk-queue.js";
import type { PortLike } from "../port/port-like.js";
import type { TunnelPool } from "./pool.js";
import {
  CreditBatcher,
  CreditGate,
  NEXT_TASK,
  joinChunks,
  PORT_HEARTBEAT_MS,
  PORT_LINGER_MS,
  PORT_WINDOW,
  nextTask,
  parsePageMessage,
  splitChunk,
  toTransferable,
  type HeadMessage,
  type StartMessage,
  type WorkerMessage,
} from "../port/messages.js";
import { answerFetch, type FetchAnswerer } from "./port-fetch.js";
import { rpcFlavor } from "./error-response.js";
import { resolveGatewayUrl } from "./routes.js";
import type { StatusHub } from "./status.js";
import type { TunnelCallResponse } from "./types.js";
import { traceHook } from "../protocol/trace.js";

/** The port as the server uses it (a MessagePort, or a stand-in in tests). */
export interface PortServerOptions {
  pool: TunnelPool;
  hub: StatusHub;
  /** The worker's script URL: relative gateway URLs resolve against it. */
  workerUrl: string;
  /** Gateway used when a `start` names none. */
  defaultGateway: string;
  heartbeatMs?: number;
  /** Stay alive this long after the port's last call for the page's next one (then post `idle`). */
  lingerMs?: number;
  /** Answers fast-path calls (a `start` with `url`) as the fetch event would; without it they get `pass`. */
  fetchHandler?: FetchAnswerer;
  /**
   * The worker's Web Locks: it holds one lock per port while it serves it (posting
   * `locked`), so the page learns at once when the browser stopped the worker.
   */
  locks?: Pick<LockManager, "request">;
}

interface Call {
  abort: AbortController;
  /** The request body still arriving in `data` messages (undefined: none, or complete in `start`). */
  body: ChunkQueue | undefined;
  /** The request body when `start` carried all of it. */
  complete: Uint8Array | undefined;
  gate: CreditGate;
}

/**
 * Serves calls on `port` until the page closes it. Returns a promise that settles once
 * the port had no call in flight for `lingerMs` (after at least one call), for
 * `event.waitUntil` so the browser keeps the worker alive while calls run and the page
 * can start its next call on the same port. When it settles the worker posts `idle`; it
 * still serves calls that arrive later, but the page opens a fresh port for new ones.
 */
export function servePort(port: PortLike, options: PortServerOptions): Promise<void> {
  const calls = new Map<number, Call>();
  let idleResolve!: () => void;
  let released = false;
  const idle = new Promise<void>((r) => (idleResolve = r));
  const heartbeatMs = options.heartbeatMs ?? PORT_HEARTBEAT_MS;
  const lingerMs = options.lingerMs ?? PORT_LINGER_MS;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let linger: ReturnType<typeof setTimeout> | undefined;

  const post = (message: WorkerMessage, transfer?: Transferable[]) => {
    try {
      port.postMessage(message, transfer ?? []);
    } catch {
      // The page went away; the call's abort follows from its cancel or nothing at all.
    }
  };

  let unlock: (() => void) | undefined;
  if (options.locks) {
    const name = `swtunnel.port.${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    const held = new Promise<void>((r) => (unlock = r));
    void options.locks
      .request(name, () => {
        post({ type: "locked", name });
        return held;
      })
      .catch(() => {});
  }

  const finish = (id: number, counted: boolean) => {
    calls.delete(id);
    if (counted) options.hub.count("active", -1);
    if (calls.size === 0) {
      clearInterval(heartbeat);
      heartbeat = undefined;
      if (released) return;
      linger = setTimeout(() => {
        released = true;
        post({ type: "idle" });
        unlock?.();
        idleResolve();
      }, lingerMs);
    }
  };

  const start = (msg: StartMessage) => {
    traceHook?.("w.in");
    // Before anything else: the page now knows the call reached a worker (no resend).
    if (msg.ack) post({ type: "accepted", id: msg.id });
    if (calls.has(msg.id)) return;
    clearTimeout(linger);
    const abort = new AbortController();
    const credit = new CreditBatcher((bytes) => post({ type: "credit", id: msg.id, bytes }));
    // A body complete in `start` (every unary and server-streaming call) goes to the tunnel
    // client as bytes: it sends HEADERS and one DATA with END_STREAM at once, where an
    // iterable body costs a pull per chunk and a separate empty DATA frame for the end.
    const complete = msg.hasBody && msg.end ? joinChunks(msg.body ?? []) : undefined;
    const call: Call = {
      abort,
      gate: new CreditGate(),
      body: msg.hasBody && !complete ? new ChunkQueue((n) => credit.consumed(n)) : undefined,
      complete,
    };
    for (const bytes of msg.body ?? []) call.body?.push(new Uint8Array(bytes));
    calls.set(msg.id, call);
    // A fast-path call is counted (active, carried...) by the fetch handler that answers it.
    const counted = msg.url === undefined;
    if (counted) options.hub.count("active");
    options.hub.count("portCalls");
    heartbeat ??= setInterval(() => post({ type: "alive" }), heartbeatMs);
    void run(msg, call).finally(() => finish(msg.id, counted));
  };

  const tunnelCall = async (msg: StartMessage, call: Call): Promise<TunnelCallResponse> => {
    const gateway = msg.gateway ? resolveGatewayUrl(msg.gateway, options.workerUrl) : options.defaultGateway;
    const res = await options.pool.get(gateway).request({
      method: msg.method,
      path: msg.path,
      headers: msg.headers,
      body: call.complete ?? call.body ?? null,
      signal: call.abort.signal,
    });
    options.hub.count("carried");
    return res;
  };

  const run = async (msg: StartMessage, call: Call) => {
    try {
      const { url } = msg;
      const requestBody = call.complete ? single(call.complete) : call.body;
      const res =
        url === undefined
          ? await tunnelCall(msg, call)
          : options.fetchHandler && (await answerFetch({ ...msg, url }, requestBody, options.fetchHandler, call.abort.signal));
      if (!res) {
        post({ type: "pass", id: msg.id });
        return;
      }
      const it = res.body[Symbol.asyncIterator]();
      const head: HeadMessage = { type: "head", id: msg.id, status: res.status, headers: res.headers };
      // Gather what the body yields before the next task into the head. A Connect unary
      // answer is one message the page's client reads whole, so there the head waits for
      // the body's end (the backend often sends head and body in separate writes): one
      // message to the page instead of two or three.
      const body: ArrayBuffer[] = [];
      const rest: Uint8Array[] = [];
      let gathered = 0;
      let next = it.next();
      const deadline = answeredWhole(msg) ? new Promise<never>(() => {}) : nextTask();
      for (;;) {
        const r = await Promise.race([next, deadline]);
        if (r === NEXT_TASK) break;
        if (r.done) {
          head.trailers = res.trailers();
          break;
        }
        for (const piece of splitChunk(r.value)) {
          // Beyond half the window the rest goes as data messages under credit, after head.
          if (gathered >= PORT_WINDOW / 2) {
            rest.push(piece);
            continue;
          }
          await call.gate.take(piece.byteLength); // under the window: never waits
          const bytes = toTransferable(piece);
          body.push(bytes);
          gathered += bytes.byteLength;
        }
        next = it.next();
        if (gathered >= PORT_WINDOW / 2) break;
      }
      if (body.length > 0) head.body = body;
      post(head, body);
      traceHook?.("w.post");
      if (head.trailers) return;
      const send = async (chunk: Uint8Array) => {
        for (const piece of splitChunk(chunk)) {
          await call.gate.take(piece.byteLength);
          const bytes = toTransferable(piece);
          post({ type: "data", id: msg.id, bytes }, [bytes]);
        }
      };
      for (const piece of rest) await send(piece);
      for (let r = await next; !r.done; r = await it.next()) await send(r.value);
      post({ type: "trailers", id: msg.id, trailers: res.trailers() });
    } catch (err) {
      if (call.abort.signal.aborted) return; // The page cancelled; it expects nothing more.
      options.hub.count("failed");
      const error = toTunnelError(err);
      post({ type: "error", id: msg.id, code: codeToString(error.code), message: error.rawMessage });
    } finally {
      call.body?.fail(new Error("call ended"));
      call.gate.fail(new Error("call ended"));
    }
  };

  port.addEventListener("message", (event: MessageEvent) => {
    const msg = parsePageMessage(event.data);
    if (!msg) return;
    if (msg.type === "start") return start(msg);
    const call = calls.get(msg.id);
    if (!call) return;
    switch (msg.type) {
      case "data":
        call.body?.push(new Uint8Array(msg.bytes));
        break;
      case "end":
        call.body?.end();
        break;
      case "credit":
        call.gate.grant(msg.bytes);
        break;
      case "cancel":
        call.abort.abort();
        call.gate.fail(new Error("cancelled"));
        call.body?.fail(new Error("cancelled"));
        break;
    }
  });
  port.start?.();
  return idle;
}

/** Whether the page's client reads this call's answer only once it is complete (Connect unary). */
function answeredWhole(msg: StartMessage): boolean {
  const contentType = msg.headers.find(([name]) => name.toLowerCase() === "content-type")?.[1] ?? null;
  return rpcFlavor(contentType) === "connect-unary";
}

/** A complete body as the one-chunk iterable the fetch path reads. */
async function* single(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}
