/**
 * Test support for the adapter tests: building ProxyRequests, a fake Upstream for unit
 * tests, a real node:http2 Upstream for integration tests, and a Connect-ES
 * UniversalClientFn that runs the adapters in-process.
 */
import * as http2 from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema, MethodOptionsSchema, MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import type { UniversalClientFn } from "@connectrpc/connect/protocol";
import type { HeaderList } from "../../protocol/index.js";
import {
  UpstreamError,
  type ProtocolAdapter,
  type ProxyRequest,
  type ProxyResponse,
  type Upstream,
  type UpstreamProtocol,
} from "../../server/exchange.js";

export const enc = new TextEncoder();
export const dec = new TextDecoder();

export async function* chunks(...parts: Uint8Array[]): AsyncIterable<Uint8Array> {
  for (const p of parts) yield p;
}

export async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of body) parts.push(c);
  return new Uint8Array(Buffer.concat(parts));
}

export function request(init: {
  method?: string;
  path?: string;
  headers: HeaderList;
  body?: Uint8Array[];
  signal?: AbortSignal;
}): ProxyRequest {
  return {
    method: init.method ?? "POST",
    path: init.path ?? "/swtunnel.test.v1.TestService/Unary",
    headers: init.headers,
    body: chunks(...(init.body ?? [])),
    signal: init.signal ?? new AbortController().signal,
  };
}

export function header(headers: HeaderList, name: string): string | undefined {
  return headers.find(([n]) => n === name)?.[1];
}

/** An envelope: flags, 4-byte big-endian length, data. */
export function env(flags: number, data: Uint8Array | string): Uint8Array {
  const bytes = typeof data === "string" ? enc.encode(data) : data;
  const out = new Uint8Array(5 + bytes.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, bytes.length);
  out.set(bytes, 5);
  return out;
}

/** Splits an enveloped byte string. */
export function envelopes(input: Uint8Array): { flags: number; data: Uint8Array }[] {
  const bytes = new Uint8Array(input); // a plain copy, so slices are Uint8Arrays, not Buffers
  const out: { flags: number; data: Uint8Array }[] = [];
  let i = 0;
  while (i < bytes.length) {
    const len = new DataView(bytes.buffer, bytes.byteOffset + i + 1, 4).getUint32(0);
    out.push({ flags: bytes[i]!, data: bytes.slice(i + 5, i + 5 + len) });
    i += 5 + len;
  }
  if (i !== bytes.length) throw new Error("trailing bytes after the last envelope");
  return out;
}

/** What the fake upstream received, read whole. */
export interface Seen {
  method: string;
  path: string;
  headers: HeaderList;
  body: Uint8Array;
}

/** A gRPC upstream answer for the fake. */
export interface FakeAnswer {
  status?: number;
  headers?: HeaderList;
  body?: Uint8Array[];
  trailers?: HeaderList;
  /** Thrown by the body iterator after the chunks. */
  bodyError?: Error;
}

/**
 * A fake Upstream (unit tests only): reads the request whole, records it and answers.
 * `answer` may throw (an UpstreamError before the head).
 */
export function fakeUpstream(answer: (seen: Seen) => FakeAnswer): { upstream: Upstream; seen: Seen[] } {
  const seen: Seen[] = [];
  const upstream: Upstream = async (req) => {
    const s = { method: req.method, path: req.path, headers: req.headers, body: await collect(req.body) };
    seen.push(s);
    const a = answer(s);
    return {
      status: a.status ?? 200,
      headers: a.headers ?? [["content-type", "application/grpc+proto"]],
      body: (async function* () {
        for (const c of a.body ?? []) yield c;
        if (a.bodyError) throw a.bodyError;
      })(),
      trailers: () => a.trailers ?? [],
    };
  };
  return { upstream, seen };
}

/**
 * A real HTTP/2 Upstream to `baseUrl` (integration tests only; the gateway's pool is
 * elsewhere). Streams both ways; trailers are read when the body ends.
 */
export function http2Upstream(baseUrl: string): { upstream: Upstream; close(): void } {
  let session: http2.ClientHttp2Session | undefined;
  const getSession = () => {
    if (!session || session.closed || session.destroyed) {
      session = http2.connect(baseUrl);
      session.on("error", () => {});
    }
    return session;
  };
  const upstream: Upstream = (req) =>
    new Promise<ProxyResponse>((resolve, reject) => {
      const h: http2.OutgoingHttpHeaders = { ":method": req.method, ":path": req.path };
      for (const [n, v] of req.headers) {
        const prev = h[n];
        h[n] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v];
      }
      const stream = getSession().request(h, { endStream: false });
      const onAbort = () => stream.close(http2.constants.NGHTTP2_CANCEL);
      req.signal.addEventListener("abort", onAbort, { once: true });
      let trailers: HeaderList = [];
      stream.on("trailers", (t) => (trailers = toList(t)));
      stream.once("error", (e) => reject(new UpstreamError("unavailable", `upstream: ${e.message}`)));
      stream.once("response", (head) => {
        resolve({
          status: Number(head[":status"]),
          headers: toList(head),
          body: (async function* () {
            for await (const c of stream) yield new Uint8Array(c as Buffer);
          })(),
          trailers: () => trailers,
        });
      });
      void (async () => {
        try {
          for await (const c of req.body) if (!stream.write(c)) await new Promise((r) => stream.once("drain", r));
          stream.end();
        } catch {
          stream.close(http2.constants.NGHTTP2_CANCEL);
        }
      })();
    });
  return { upstream, close: () => session?.close() };
}

function toList(h: http2.IncomingHttpHeaders): HeaderList {
  const list: HeaderList = [];
  for (const [n, v] of Object.entries(h)) {
    if (n.startsWith(":") || v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) list.push([n, String(x)]);
  }
  return list;
}

/**
 * A Connect-ES UniversalClientFn that hands each call to the first matching adapter
 * in-process, so the real Connect-ES protocol code checks what the adapter produced.
 * Answers 415 when no adapter matches, as the gateway core does.
 */
export function adapterClient(adapters: ProtocolAdapter[], upstreamProtocol: UpstreamProtocol, upstream: Upstream): UniversalClientFn {
  return async (req) => {
    const url = new URL(req.url);
    const headers: HeaderList = [];
    req.header.forEach((v, n) => headers.push([n, v]));
    const proxyReq: ProxyRequest = {
      method: req.method,
      path: url.pathname + url.search,
      headers,
      body: req.body ?? chunks(),
      signal: req.signal ?? new AbortController().signal,
    };
    const adapter = adapters.find((a) => a.matches(proxyReq, upstreamProtocol));
    if (!adapter) return { status: 415, header: new Headers(), body: chunks(), trailer: new Headers() };
    const res = await adapter.handle(proxyReq, upstream);
    const trailer = new Headers();
    const header = new Headers();
    for (const [n, v] of res.headers) header.append(n, v);
    return {
      status: res.status,
      header,
      trailer,
      body: (async function* () {
        yield* res.body;
        for (const [n, v] of res.trailers()) trailer.append(n, v);
      })(),
    };
  };
}

/**
 * The demo descriptor set with `option idempotency_level = NO_SIDE_EFFECTS` set on the
 * given `pkg.Service/Method`s (no test proto declares one; Connect GET needs it).
 */
export function descriptorsWithNoSideEffects(descriptors: Uint8Array, methods: string[]): Uint8Array {
  const set = fromBinary(FileDescriptorSetSchema, descriptors);
  for (const file of set.file) {
    for (const service of file.service) {
      for (const method of service.method) {
        if (!methods.includes(`${file.package}.${service.name}/${method.name}`)) continue;
        method.options ??= create(MethodOptionsSchema);
        method.options.idempotencyLevel = MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS;
      }
    }
  }
  return toBinary(FileDescriptorSetSchema, set);
}
