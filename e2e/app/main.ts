/**
 * The e2e test page: an unmodified @connectrpc/connect-web client (Connect binary,
 * Connect JSON, gRPC-Web) plus the page SDK, driven by Playwright through `window.swt`.
 * Every helper returns plain data (what a user of the app would check).
 */
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { ErrorDetailSchema, TestService } from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { createTunnelTransport, registerTunnel, tunnelFetch, type RegisterTunnelOptions, type TunnelHandle } from "../../page-sdk/index.js";
import { createPageSocketTransport } from "../../page-sdk/index.js";

/** Kinds over createPageSocketTransport, to the gateway given to `swt.usePageSocket`. */
export type PageSocketKind = "socket-grpc" | "socket-connect-json" | "socket-grpc-web";

/** Transport kinds a test can pick ("connect-fetch": Connect binary with `fetch: tunnelFetch`). */
export type Kind = "connect-bin" | "connect-json" | "grpc-web" | "tunnel" | "tunnel-grpc" | "connect-fetch" | PageSocketKind;

/** Gateway of the "socket-*" kinds, and the statuses their sockets reported. */
const pageSocket = { gateway: "", statuses: [] as string[] };

/** The browser's fetch, before registerTunnel() may replace `globalThis.fetch`. */
const originalFetch = globalThis.fetch;

/** A fetch a test makes by hand (see `swt.rawFetch`). */
export interface RawFetch {
  method?: string;
  headers?: Record<string, string>;
  /** Request body as text. */
  body?: string;
  /** Send the body as a ReadableStream (duplex "half"). */
  stream?: boolean;
  /** Pass a `Request` made of url and init as fetch's only argument. */
  asRequest?: boolean;
}

/** What a hand-made fetch gave: the Response as a page sees it, or the error. */
export interface RawResult {
  status?: number;
  headers?: Record<string, string>;
  /** Body bytes as hex. */
  body?: string;
  error?: string;
}

export interface CallOptions {
  timeoutMs?: number;
  headers?: Record<string, string>;
  /** Abort after this many stream messages (server streaming). */
  abortAfter?: number;
}

export interface CallResult {
  ok: boolean;
  /** Unary response, or stream messages with their arrival time (ms, performance.now()). */
  value?: unknown;
  messages?: Array<{ index: number; t: number; text?: string }>;
  end?: number;
  header: Record<string, string>;
  trailer: Record<string, string>;
  error?: { code: string; message: string; reasons: string[] };
}

function transport(kind: Kind, baseUrl: string): Transport {
  switch (kind) {
    case "connect-bin":
      return createConnectTransport({ baseUrl, useBinaryFormat: true });
    case "connect-json":
      return createConnectTransport({ baseUrl, useBinaryFormat: false });
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl });
    case "tunnel":
      return createTunnelTransport({ baseUrl });
    case "tunnel-grpc":
      return createTunnelTransport({ baseUrl, protocol: "grpc" });
    case "connect-fetch":
      return createConnectTransport({ baseUrl, useBinaryFormat: true, fetch: tunnelFetch });
    case "socket-grpc":
    case "socket-connect-json":
    case "socket-grpc-web":
      return createPageSocketTransport({
        baseUrl,
        gateway: pageSocket.gateway,
        protocol: kind === "socket-grpc" ? "grpc" : kind === "socket-grpc-web" ? "grpc-web" : "connect",
        useBinaryFormat: kind !== "socket-connect-json",
        reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
        onStatus: (s) => pageSocket.statuses.push(s),
      });
  }
}

const clients = new Map<string, Client<typeof TestService>>();
function client(kind: Kind, baseUrl: string): Client<typeof TestService> {
  const key = `${kind} ${baseUrl}`;
  let c = clients.get(key);
  if (!c) clients.set(key, (c = createClient(TestService, transport(kind, baseUrl))));
  return c;
}

function plain(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? Number(x) : x instanceof Uint8Array ? x.length : x)));
}

function errorInfo(e: unknown): CallResult["error"] {
  const err = ConnectError.from(e);
  return {
    code: Code[err.code] ?? String(err.code),
    message: err.rawMessage,
    reasons: err.findDetails(ErrorDetailSchema).map((d) => d.reason),
  };
}

async function run(
  body: (
    r: CallResult,
    opts: {
      signal?: AbortSignal;
      timeoutMs?: number;
      headers?: Record<string, string>;
      onHeader: (h: Headers) => void;
      onTrailer: (h: Headers) => void;
    },
    abort: AbortController,
  ) => Promise<void>,
  o: CallOptions = {},
): Promise<CallResult> {
  const r: CallResult = { ok: false, header: {}, trailer: {} };
  const abort = new AbortController();
  try {
    await body(
      r,
      {
        signal: abort.signal,
        timeoutMs: o.timeoutMs,
        headers: o.headers,
        onHeader: (h) => h.forEach((v, k) => (r.header[k] = v)),
        onTrailer: (h) => h.forEach((v, k) => (r.trailer[k] = v)),
      },
      abort,
    );
    r.ok = true;
  } catch (e) {
    r.error = errorInfo(e);
  }
  r.end = performance.now();
  return r;
}

const swt = {
  handle: undefined as TunnelHandle | undefined,
  statuses: [] as string[],

  async register(options: RegisterTunnelOptions): Promise<{ controlled: boolean }> {
    swt.handle = await registerTunnel({ ...options, onStatus: (s) => swt.statuses.push(s.status) });
    return { controlled: navigator.serviceWorker.controller !== null };
  },

  /** Sets the gateway of the "socket-*" kinds (before their first call); returns their statuses so far. */
  usePageSocket(gateway?: string): string[] {
    if (gateway !== undefined) pageSocket.gateway = gateway;
    return pageSocket.statuses;
  },

  async stats() {
    return swt.handle ? swt.handle.stats() : undefined;
  },

  /** True while `globalThis.fetch` is not the browser's own. */
  fetchPatched(): boolean {
    return globalThis.fetch !== originalFetch;
  },

  /** One fetch through `globalThis.fetch` ("page") or the browser's own fetch ("original"). */
  async rawFetch(url: string, init: RawFetch, via: "page" | "original"): Promise<RawResult> {
    const f = via === "page" ? globalThis.fetch : originalFetch;
    const body = init.stream
      ? new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new TextEncoder().encode(init.body ?? ""));
            c.close();
          },
        })
      : init.body;
    try {
      const options = { method: init.method, headers: init.headers, body, ...(init.stream ? { duplex: "half" } : {}) };
      const res = await (init.asRequest ? f(new Request(url, options)) : f(url, options));
      const headers: Record<string, string> = {};
      res.headers.forEach((v, k) => (headers[k] = v));
      const bytes = new Uint8Array(await res.arrayBuffer());
      return { status: res.status, headers, body: [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("") };
    } catch (e) {
      return { error: e instanceof Error ? `${e.name}` : String(e) };
    }
  },

  /** Mean milliseconds of `n` sequential unary calls (after 20 unmeasured ones). */
  async timeUnary(kind: Kind, baseUrl: string, n: number): Promise<number> {
    for (let i = 0; i < 20; i++) await client(kind, baseUrl).unary({ text: "warm" });
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await client(kind, baseUrl).unary({ text: "t" });
    return (performance.now() - t0) / n;
  },

  unary(kind: Kind, baseUrl: string, req: { text?: string; id?: string; delayMs?: number; responseSize?: number }, o?: CallOptions) {
    return run(async (r, opts) => {
      r.value = plain(await client(kind, baseUrl).unary(req, opts));
    }, o);
  },

  fail(kind: Kind, baseUrl: string, req: { code: number; message: string; detail: string }, o?: CallOptions) {
    return run(async (r, opts) => {
      r.value = plain(await client(kind, baseUrl).fail(req, opts));
    }, o);
  },

  serverStream(
    kind: Kind,
    baseUrl: string,
    req: { id?: string; count: number; size?: number; intervalMs?: number; failCode?: number },
    o: CallOptions = {},
  ) {
    return run(async (r, opts, abort) => {
      r.messages = [];
      for await (const m of client(kind, baseUrl).serverStream(req, opts)) {
        r.messages.push({ index: m.index, t: performance.now() });
        if (o.abortAfter !== undefined && r.messages.length >= o.abortAfter) abort.abort();
      }
    }, o);
  },

  clientStream(kind: Kind, baseUrl: string, count: number, size = 0, o?: CallOptions) {
    return run(async (r, opts) => {
      const reqs = (async function* () {
        for (let i = 0; i < count; i++) yield { text: String(i), payload: new Uint8Array(size) };
      })();
      r.value = plain(await client(kind, baseUrl).clientStream(reqs, opts));
    }, o);
  },

  /** Bidi ping-pong: each request is sent only after the previous answer arrived. */
  bidiPingPong(kind: Kind, baseUrl: string, rounds: number, o?: CallOptions) {
    return run(async (r, opts) => {
      r.messages = [];
      let wake: (() => void) | undefined;
      const reqs = (async function* () {
        for (let i = 0; i < rounds; i++) {
          yield { text: `ping ${i}` };
          await new Promise<void>((res) => (wake = res));
        }
      })();
      for await (const m of client(kind, baseUrl).bidi(reqs, opts)) {
        r.messages.push({ index: m.index, t: performance.now(), text: m.text });
        wake?.();
      }
    }, o);
  },

  /**
   * Starts a call of `method` tagged with `id` that the backend keeps open (a slow unary,
   * an endless server stream, a client stream or bidi that never half-closes) and aborts
   * it from the page `afterMs` after it started. Returns what the page saw.
   */
  abortMidCall(kind: Kind, baseUrl: string, method: "unary" | "serverStream" | "clientStream" | "bidi", id: string, afterMs: number) {
    return run(async (_r, opts, abort) => {
      setTimeout(() => abort.abort(), afterMs);
      const c = client(kind, baseUrl);
      const open = (async function* () {
        yield { id, text: "open" };
        // Never half-closes: an end of the request stream would let the backend finish normally.
        await new Promise(() => {});
      })();
      switch (method) {
        case "unary":
          await c.unary({ id, delayMs: 60_000 }, opts);
          break;
        case "serverStream":
          for await (const _ of c.serverStream({ id, count: 1000, intervalMs: 200 }, opts));
          break;
        case "clientStream":
          await c.clientStream(open, opts);
          break;
        case "bidi":
          for await (const _ of c.bidi(open, opts));
          break;
      }
    });
  },

  /** Calls unary in a loop for `durationMs`; returns how many succeeded and the errors. */
  async loop(kind: Kind, baseUrl: string, durationMs: number, gapMs = 10) {
    const until = performance.now() + durationMs;
    let ok = 0;
    const errors: string[] = [];
    while (performance.now() < until) {
      const r = await swt.unary(kind, baseUrl, { text: "loop" });
      if (r.ok) ok++;
      else errors.push(`${r.error!.code}: ${r.error!.message}`);
      await new Promise((res) => setTimeout(res, gapMs));
    }
    return { ok, errors };
  },
};

(globalThis as unknown as { swt: typeof swt }).swt = swt;
