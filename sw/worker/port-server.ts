/**
 * Serves page-sdk calls over a MessagePort (see port-protocol.ts): each `start` becomes
 * one tunnel stream through the worker's shared client for the gateway.
 */
import { codeToString } from "../code.js";
import { toTunnelError } from "../errors.js";
import { ChunkQueue } from "./chunk-queue.js";
import type { TunnelPool } from "./pool.js";
import {
  CreditGate,
  PORT_HEARTBEAT_MS,
  parsePageMessage,
  splitChunk,
  toTransferable,
  type StartMessage,
  type WorkerMessage,
} from "./port-protocol.js";
import { resolveGatewayUrl } from "./routes.js";
import type { StatusHub } from "./status.js";

/** The port as the server uses it (a MessagePort, or a stand-in in tests). */
export interface PortLike {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  start?(): void;
  close(): void;
}

export interface PortServerOptions {
  pool: TunnelPool;
  hub: StatusHub;
  /** The worker's script URL: relative gateway URLs resolve against it. */
  workerUrl: string;
  /** Gateway used when a `start` names none. */
  defaultGateway: string;
  heartbeatMs?: number;
}

interface Call {
  abort: AbortController;
  body: ChunkQueue | undefined;
  gate: CreditGate;
}

/**
 * Serves calls on `port` until the page closes it. Returns a promise that settles when
 * the port has no call in flight any more (after at least one call), for
 * `event.waitUntil` so the browser keeps the worker alive while calls run.
 */
export function servePort(port: PortLike, options: PortServerOptions): Promise<void> {
  const calls = new Map<number, Call>();
  let idleResolve!: () => void;
  const idle = new Promise<void>((r) => (idleResolve = r));
  const heartbeatMs = options.heartbeatMs ?? PORT_HEARTBEAT_MS;
  let heartbeat: ReturnType<typeof setInterval> | undefined;

  const post = (message: WorkerMessage, transfer?: Transferable[]) => {
    try {
      port.postMessage(message, transfer ?? []);
    } catch {
      // The page went away; the call's abort follows from its cancel or nothing at all.
    }
  };

  const finish = (id: number) => {
    calls.delete(id);
    options.hub.count("active", -1);
    if (calls.size === 0) {
      clearInterval(heartbeat);
      heartbeat = undefined;
      idleResolve();
    }
  };

  const start = (msg: StartMessage) => {
    if (calls.has(msg.id)) return;
    const abort = new AbortController();
    const call: Call = {
      abort,
      gate: new CreditGate(),
      body: msg.hasBody ? new ChunkQueue((n) => post({ type: "credit", id: msg.id, bytes: n })) : undefined,
    };
    calls.set(msg.id, call);
    options.hub.count("active");
    options.hub.count("portCalls");
    heartbeat ??= setInterval(() => post({ type: "alive" }), heartbeatMs);
    void run(msg, call).finally(() => finish(msg.id));
  };

  const run = async (msg: StartMessage, call: Call) => {
    try {
      const gateway = msg.gateway ? resolveGatewayUrl(msg.gateway, options.workerUrl) : options.defaultGateway;
      const res = await options.pool.get(gateway).request({
        method: msg.method,
        path: msg.path,
        headers: msg.headers,
        body: call.body ?? null,
        signal: call.abort.signal,
      });
      options.hub.count("carried");
      post({ type: "head", id: msg.id, status: res.status, headers: res.headers });
      for await (const chunk of res.body) {
        for (const piece of splitChunk(chunk)) {
          await call.gate.take(piece.byteLength);
          const bytes = toTransferable(piece);
          post({ type: "data", id: msg.id, bytes }, [bytes]);
        }
      }
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
