/**
 * The MessagePort protocol between a page (page-sdk's transport) and the worker. Pure:
 * message shapes, validation and per-call credit. Both sides import this module.
 *
 * A page opens a channel by posting `{ type: "swtunnel.connect", port }` to the worker
 * (the port transferred). On that port:
 *
 *   page -> worker  start {id, gateway?, method, path, headers, hasBody, body?, end?,
 *                          url?, credentials?, redirect?, ack?}
 *                          (ack: true on a port with no call running: the worker
 *                          answers `accepted` on receipt; the page then keeps the
 *                          body untransferred to resend it if the worker is gone)
 *                   data {id, bytes}   (ArrayBuffer, transferred)
 *                   end {id}           (request half-close)
 *                   cancel {id}
 *                   credit {id, bytes} (page consumed response bytes)
 *   worker -> page  head {id, status, headers, body?, trailers?}
 *                   data {id, bytes}
 *                   trailers {id, trailers}   (the call ended normally)
 *                   error {id, code, message} (the call failed; code is a Connect code name)
 *                   pass {id}          (a `start` with `url` that no route carries: the
 *                                       page sends the request to the network itself)
 *                   credit {id, bytes} (worker sent request bytes on)
 *                   accepted {id}      (a `start` with `ack` reached the worker; posted
 *                                       synchronously on receipt, before the call runs)
 *                   alive {}           (heartbeat while calls are active)
 *                   idle {}            (the worker stopped keeping itself alive for this
 *                                       port; the page opens a fresh port for new calls)
 *                   locked {name}      (the worker holds the Web Lock `name` while it
 *                                       serves this port; the page queues for it, and
 *                                       being granted it with calls in flight means the
 *                                       browser stopped the worker)
 *
 * A page reuses an idle port (no call running) while it knows the worker's lock is
 * held and saw no `idle`, and for at most `PORT_MAX_AGE_MS` after opening it. If the
 * lock is then granted (worker stopped) a call never `accepted` never reached a
 * worker: the page resends it on a fresh port if its `start` held the whole body.
 *
 * One port carries any number of calls, told apart by `id` (a page keeps one port per
 * worker). Coalescing: `start` may carry the first request chunks (`body`, each at most
 * `PORT_MAX_CHUNK`) and `end: true` when that is the whole body; `head` may carry the
 * first response chunks and `trailers` when the call ended with them. Separate data/end/
 * trailers messages stay valid, so a receiver accepts both forms.
 *
 * A `start` with `url` (the page SDK's fetch fast path, page-sdk/fetch.ts) asks the
 * worker to answer it exactly as its fetch handler would answer that fetch: same routes,
 * same Response (status, headers with CORS, body, error responses), or `pass`. Its
 * response body travels as data with empty trailers.
 *
 * Credit: each side may have at most `PORT_WINDOW` bytes of DATA outstanding per call,
 * so a fast page cannot flood the worker's memory (and the reverse). A receiver returns
 * credit in batches of at least half the window (`CreditBatcher`), so small calls send
 * no credit messages at all.
 */
import type { HeaderList } from "../protocol/index.js";

/** Message type of the connect message sent to the worker with the port. */
export const CONNECT_MESSAGE = "swtunnel.connect";
/** Message type of a status request / keep-alive ping from a page. */
export const PING_MESSAGE = "swtunnel.ping";
/** Message type of a page's keep-alive answer to the worker's heartbeat (no reply). */
export const KEEPALIVE_MESSAGE = "swtunnel.keepalive";
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
/**
 * The worker keeps itself alive (event.waitUntil) this long after a port's last call, so
 * a page may start the next call on the same port; then it posts `idle`.
 */
export const PORT_LINGER_MS = 5_000;
/**
 * A page's port takes no new calls this long after it was opened, so the worker's one
 * `event.waitUntil` per port stays far below Chromium's 5-minute limit on an event.
 */
export const PORT_MAX_AGE_MS = 60_000;

export type StartMessage = {
  type: "start";
  id: number;
  gateway?: string;
  method: string;
  path: string;
  headers: HeaderList;
  hasBody: boolean;
  /** First request chunks, sent with the start (transferred). */
  body?: ArrayBuffer[];
  /** The request body ends after `body` (no `end` message follows). */
  end?: boolean;
  /** Fetch fast path: the request's absolute URL; answer as the worker's fetch handler would. */
  url?: string;
  /** Fetch fast path: the request's credentials mode (decides the CORS headers). */
  credentials?: RequestCredentials;
  /** Fetch fast path: the request's redirect mode (for a fallback network fetch). */
  redirect?: RequestRedirect;
  /** Answer `accepted` on receipt (the page may resend the call if the worker is gone first). */
  ack?: boolean;
};
export type PageDataMessage = { type: "data"; id: number; bytes: ArrayBuffer };
export type EndMessage = { type: "end"; id: number };
export type CancelMessage = { type: "cancel"; id: number };
export type CreditMessage = { type: "credit"; id: number; bytes: number };

/** Messages a page sends on the port. */
export type PageMessage = StartMessage | PageDataMessage | EndMessage | CancelMessage | CreditMessage;

export type HeadMessage = {
  type: "head";
  id: number;
  status: number;
  headers: HeaderList;
  /** First response chunks, sent with the head (transferred). */
  body?: ArrayBuffer[];
  /** The call ended normally with these trailers (no `trailers` message follows). */
  trailers?: HeaderList;
};
export type WorkerDataMessage = { type: "data"; id: number; bytes: ArrayBuffer };
export type TrailersMessage = { type: "trailers"; id: number; trailers: HeaderList };
export type ErrorMessage = { type: "error"; id: number; code: string; message: string };
export type AliveMessage = { type: "alive" };
export type IdleMessage = { type: "idle" };
export type PassMessage = { type: "pass"; id: number };
export type LockedMessage = { type: "locked"; name: string };
export type AcceptedMessage = { type: "accepted"; id: number };

/** Messages the worker sends on the port. */
export type WorkerMessage =
  | HeadMessage
  | WorkerDataMessage
  | TrailersMessage
  | ErrorMessage
  | CreditMessage
  | PassMessage
  | AliveMessage
  | IdleMessage
  | LockedMessage
  | AcceptedMessage;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
const isId = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isHeaderList = (v: unknown): v is HeaderList =>
  Array.isArray(v) && v.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === "string" && typeof e[1] === "string");
const isChunks = (v: unknown): v is ArrayBuffer[] =>
  v === undefined || (Array.isArray(v) && v.every((b) => b instanceof ArrayBuffer && b.byteLength <= PORT_MAX_CHUNK));

const CREDENTIALS = new Set(["omit", "same-origin", "include"]);
const REDIRECTS = new Set(["follow", "error", "manual"]);

/** Validates a message from a page; undefined for anything malformed (the worker ignores it). */
export function parsePageMessage(data: unknown): PageMessage | undefined {
  if (!isObj(data) || !isId(data.id)) return undefined;
  switch (data.type) {
    case "start":
      if (typeof data.method !== "string" || typeof data.path !== "string" || !data.path.startsWith("/")) return undefined;
      if (!isHeaderList(data.headers) || typeof data.hasBody !== "boolean") return undefined;
      if (data.gateway !== undefined && typeof data.gateway !== "string") return undefined;
      if (!isChunks(data.body) || (data.end !== undefined && typeof data.end !== "boolean")) return undefined;
      if ((data.body !== undefined || data.end) && !data.hasBody) return undefined;
      if (data.url !== undefined && !(typeof data.url === "string" && /^https?:\/\//i.test(data.url))) return undefined;
      if (data.credentials !== undefined && !CREDENTIALS.has(data.credentials as string)) return undefined;
      if (data.redirect !== undefined && !REDIRECTS.has(data.redirect as string)) return undefined;
      if (data.ack !== undefined && typeof data.ack !== "boolean") return undefined;
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
  if (data.type === "idle") return { type: "idle" };
  if (data.type === "locked") return typeof data.name === "string" ? { type: "locked", name: data.name } : undefined;
  if (!isId(data.id)) return undefined;
  switch (data.type) {
    case "head":
      if (typeof data.status !== "number" || !isHeaderList(data.headers) || !isChunks(data.body)) return undefined;
      return data.trailers === undefined || isHeaderList(data.trailers) ? (data as HeadMessage) : undefined;
    case "data":
      return data.bytes instanceof ArrayBuffer ? (data as WorkerDataMessage) : undefined;
    case "trailers":
      return isHeaderList(data.trailers) ? (data as TrailersMessage) : undefined;
    case "error":
      return typeof data.code === "string" && typeof data.message === "string" ? (data as ErrorMessage) : undefined;
    case "credit":
      return typeof data.bytes === "number" && data.bytes > 0 ? (data as CreditMessage) : undefined;
    case "pass":
      return data as PassMessage;
    case "accepted":
      return { type: "accepted", id: data.id };
    default:
      return undefined;
  }
}

/** The chunks of a message (a `start`'s or a `head`'s body) as one byte array (the one chunk itself when there is one). */
export function joinChunks(chunks: ArrayBuffer[]): Uint8Array {
  if (chunks.length === 1) return new Uint8Array(chunks[0]!);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(new Uint8Array(c), at);
    at += c.byteLength;
  }
  return out;
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

/**
 * Receiver-side credit: counts consumed bytes and says when to return them. Credit goes
 * back only once at least half the window was consumed, so a call that stays small sends
 * no credit message. The sender never waits forever: it blocks only with more than half
 * the window outstanding, which the receiver returns as soon as it consumed it.
 */
export class CreditBatcher {
  private pending = 0;

  constructor(
    private readonly send: (bytes: number) => void,
    readonly threshold = PORT_WINDOW / 2,
  ) {}

  consumed(n: number): void {
    this.pending += n;
    if (this.pending < this.threshold) return;
    const bytes = this.pending;
    this.pending = 0;
    this.send(bytes);
  }
}

/** Resolves after the current task: messages already queued (a socket's next frame) run first. */
export function nextTask(): Promise<typeof NEXT_TASK> {
  return new Promise((resolve) => setTimeout(() => resolve(NEXT_TASK), 0));
}
/** The value {@link nextTask} resolves with. */
export const NEXT_TASK: unique symbol = Symbol("swtunnel.nextTask");
