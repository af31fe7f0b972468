/**
 * The MessagePort protocol between a page (page-sdk's transport) and the worker. Pure:
 * message shapes, validation and per-call credit. Both sides import this module.
 *
 * A page opens a channel by posting `{ type: "swtunnel.connect", port }` to the worker
 * (the port transferred). On that port:
 *
 *   page -> worker  start {id, gateway?, method, path, headers, hasBody}
 *                   data {id, bytes}   (ArrayBuffer, transferred)
 *                   end {id}           (request half-close)
 *                   cancel {id}
 *                   credit {id, bytes} (page consumed response bytes)
 *   worker -> page  head {id, status, headers}
 *                   data {id, bytes}
 *                   trailers {id, trailers}   (the call ended normally)
 *                   error {id, code, message} (the call failed; code is a Connect code name)
 *                   credit {id, bytes} (worker sent request bytes on)
 *                   alive {}           (heartbeat while calls are active)
 *
 * Credit: each side may have at most `PORT_WINDOW` bytes of DATA outstanding per call,
 * so a fast page cannot flood the worker's memory (and the reverse).
 */
import type { HeaderList } from "../../protocol/index.js";

/** Message type of the connect message sent to the worker with the port. */
export const CONNECT_MESSAGE = "swtunnel.connect";
/** Message type of a status request / keep-alive ping from a page. */
export const PING_MESSAGE = "swtunnel.ping";
/** Message type asking an active worker to take control of the sending page (hard reload). */
export const CLAIM_MESSAGE = "swtunnel.claim";

/** Bytes of DATA a side may send per call before the receiver returns credit. */
export const PORT_WINDOW = 256 << 10;
/** Largest `bytes` of one data message; larger chunks are split. */
export const PORT_MAX_CHUNK = 64 << 10;
/** Interval of the worker's heartbeat on a port with active calls. */
export const PORT_HEARTBEAT_MS = 2_000;
/** A page gives up on a call after this long without any message from the worker. */
export const PORT_DEAD_AFTER_MS = 10_000;

export type StartMessage = {
  type: "start";
  id: number;
  gateway?: string;
  method: string;
  path: string;
  headers: HeaderList;
  hasBody: boolean;
};
export type PageDataMessage = { type: "data"; id: number; bytes: ArrayBuffer };
export type EndMessage = { type: "end"; id: number };
export type CancelMessage = { type: "cancel"; id: number };
export type CreditMessage = { type: "credit"; id: number; bytes: number };

/** Messages a page sends on the port. */
export type PageMessage = StartMessage | PageDataMessage | EndMessage | CancelMessage | CreditMessage;

export type HeadMessage = { type: "head"; id: number; status: number; headers: HeaderList };
export type WorkerDataMessage = { type: "data"; id: number; bytes: ArrayBuffer };
export type TrailersMessage = { type: "trailers"; id: number; trailers: HeaderList };
export type ErrorMessage = { type: "error"; id: number; code: string; message: string };
export type AliveMessage = { type: "alive" };

/** Messages the worker sends on the port. */
export type WorkerMessage = HeadMessage | WorkerDataMessage | TrailersMessage | ErrorMessage | CreditMessage | AliveMessage;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
const isId = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isHeaderList = (v: unknown): v is HeaderList =>
  Array.isArray(v) && v.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === "string" && typeof e[1] === "string");

/** Validates a message from a page; undefined for anything malformed (the worker ignores it). */
export function parsePageMessage(data: unknown): PageMessage | undefined {
  if (!isObj(data) || !isId(data.id)) return undefined;
  switch (data.type) {
    case "start":
      if (typeof data.method !== "string" || typeof data.path !== "string" || !data.path.startsWith("/")) return undefined;
      if (!isHeaderList(data.headers) || typeof data.hasBody !== "boolean") return undefined;
      if (data.gateway !== undefined && typeof data.gateway !== "string") return undefined;
      return data as StartMessage;
    case "data":
      return data.bytes instanceof ArrayBuffer ? (data as PageDataMessage) : undefined;
    case "credit":
      return typeof data.bytes === "number" && data.bytes > 0 ? (data as CreditMessage) : undefined;
    case "end":
    case "cancel":
      return data as EndMessage | CancelMessage;
    default:
      return undefined;
  }
}

/** Validates a message from the worker; undefined for anything malformed. */
export function parseWorkerMessage(data: unknown): WorkerMessage | undefined {
  if (!isObj(data)) return undefined;
  if (data.type === "alive") return { type: "alive" };
  if (!isId(data.id)) return undefined;
  switch (data.type) {
    case "head":
      return typeof data.status === "number" && isHeaderList(data.headers) ? (data as HeadMessage) : undefined;
    case "data":
      return data.bytes instanceof ArrayBuffer ? (data as WorkerDataMessage) : undefined;
    case "trailers":
      return isHeaderList(data.trailers) ? (data as TrailersMessage) : undefined;
    case "error":
      return typeof data.code === "string" && typeof data.message === "string" ? (data as ErrorMessage) : undefined;
    case "credit":
      return typeof data.bytes === "number" && data.bytes > 0 ? (data as CreditMessage) : undefined;
    default:
      return undefined;
  }
}

/** Copies a chunk into its own ArrayBuffer so it can be transferred without detaching a shared buffer. */
export function toTransferable(chunk: Uint8Array): ArrayBuffer {
  if (chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer) {
    return chunk.buffer;
  }
  return chunk.slice().buffer as ArrayBuffer;
}

/** Splits a chunk into pieces of at most `max` bytes. */
export function* splitChunk(chunk: Uint8Array, max = PORT_MAX_CHUNK): Generator<Uint8Array> {
  for (let i = 0; i < chunk.byteLength; i += max) yield chunk.subarray(i, Math.min(i + max, chunk.byteLength));
}

/**
 * Sender-side credit for one call: `take(n)` waits until `n` bytes may be sent;
 * `grant(n)` returns credit when the receiver reports consumption. `fail()` wakes every
 * waiter with an error (the call ended).
 */
export class CreditGate {
  private credit: number;
  private waiters: Array<{ n: number; resolve: () => void; reject: (e: unknown) => void }> = [];
  private failure: unknown;

  constructor(readonly window = PORT_WINDOW) {
    this.credit = window;
  }

  get available(): number {
    return this.credit;
  }

  /** Resolves once `n` (at most the window) bytes of credit were taken. */
  take(n: number): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const need = Math.min(n, this.window);
    if (this.waiters.length === 0 && this.credit >= need) {
      this.credit -= need;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.waiters.push({ n: need, resolve, reject }));
  }

  grant(n: number): void {
    this.credit = Math.min(this.window, this.credit + n);
    while (this.waiters.length > 0 && this.credit >= this.waiters[0]!.n) {
      const w = this.waiters.shift()!;
      this.credit -= w.n;
      w.resolve();
    }
  }

  fail(reason: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = reason;
    for (const w of this.waiters.splice(0)) w.reject(reason);
  }
}
