/**
 * Test helpers for the gateway: a raw-frame tunnel client over a real `ws` socket, a small
 * real node:http2 backend with controllable behaviour, and gRPC envelope helpers.
 */
import diagnostics from "node:diagnostics_channel";
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { vi } from "vitest";
import { WebSocket } from "ws";
import {
  PROTOCOL_VERSION,
  SUBPROTOCOL,
  decodeFrame,
  isBatch,
  splitBatch,
  encodeFrame,
  type Frame,
  type HeaderList,
  type Settings,
} from "../../protocol/index.js";

/** Frames as the gateway sends them, decoded; plus the socket's end. */
export class RawClient {
  readonly frames: Frame[] = [];
  private waiters: Array<() => void> = [];
  closeCode: number | undefined;
  readonly closed: Promise<number>;
  private cursor = 0;

  /** Every WebSocket message received, as it came (a BATCH is one message). */
  readonly messages: Uint8Array[] = [];
  /** This client announced FRAME_BATCHES = 1: a BATCH from the gateway is split into its frames. */
  batches = false;

  private constructor(readonly ws: WebSocket) {
    ws.binaryType = "nodebuffer";
    ws.on("message", (data: Buffer) => {
      const bytes = new Uint8Array(data);
      this.messages.push(bytes);
      const frames = this.batches && isBatch(bytes) ? splitBatch(bytes, 16 << 20) : [bytes];
      for (const f of frames) this.frames.push(decodeFrame(f, "server", { maxFramePayload: 16 << 20, maxHeaderBlockBytes: 1 << 20 }));
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      ws.on("close", (code) => {
        this.closeCode = code;
        this.wake();
        resolve(code);
      }),
    );
    ws.on("error", () => {});
  }

  /** Opens a socket; by default sends SETTINGS at once and waits for the gateway's. */
  static async connect(
    url: string,
    options: {
      settings?: Partial<Settings> | false;
      protocols?: string[];
      origin?: string;
      headers?: Record<string, string>;
      localAddress?: string;
    } = {},
  ): Promise<RawClient> {
    const ws = new WebSocket(url, options.protocols ?? [SUBPROTOCOL], {
      origin: options.origin,
      headers: options.headers,
      localAddress: options.localAddress,
    });
    const client = new RawClient(ws);
    client.batches = options.settings !== false && options.settings?.frameBatches === 1;
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    if (options.settings !== false)
      client.send({ kind: "settings", settings: { version: PROTOCOL_VERSION, maxConcurrentStreams: 0, ...options.settings } });
    const settings = await client.next((f) => f.kind === "settings");
    if (settings.kind !== "settings") throw new Error("no settings");
    return client;
  }

  send(frame: Frame): void {
    this.ws.send(encodeFrame(frame));
  }

  sendRaw(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** The next frame (after the last one returned) matching `match`; rejects if the socket closes first. */
  async next(match: (f: Frame) => boolean = () => true): Promise<Frame> {
    for (;;) {
      while (this.cursor < this.frames.length) {
        const f = this.frames[this.cursor++]!;
        if (match(f)) return f;
      }
      if (this.closeCode !== undefined) throw new Error(`socket closed (${this.closeCode}) while waiting for a frame`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** All frames of one stream until it ends (END_STREAM, TRAILERS or RST_STREAM). */
  async collect(
    streamId: number,
    grant = true,
  ): Promise<{ status?: number; headers: HeaderList; body: Uint8Array; trailers: HeaderList; rst?: { code: number; message: string } }> {
    const out: { status?: number; headers: HeaderList; body: Uint8Array; trailers: HeaderList; rst?: { code: number; message: string } } = {
      headers: [],
      body: new Uint8Array(0),
      trailers: [],
    };
    const chunks: Uint8Array[] = [];
    for (;;) {
      const f = await this.next((x) => "streamId" in x && x.streamId === streamId && x.kind !== "window-update");
      if (f.kind === "response-headers") {
        out.status = f.status;
        out.headers = f.headers;
        if (f.endStream) break;
      } else if (f.kind === "data") {
        chunks.push(f.data);
        if (grant && f.data.length > 0) {
          this.send({ kind: "window-update", streamId, increment: f.data.length });
          this.send({ kind: "window-update", streamId: 0, increment: f.data.length });
        }
        if (f.endStream) break;
      } else if (f.kind === "trailers") {
        out.trailers = f.trailers;
        break;
      } else if (f.kind === "rst") {
        out.rst = { code: f.code, message: f.message };
        break;
      }
    }
    out.body = new Uint8Array(Buffer.concat(chunks));
    return out;
  }

  close(): void {
    this.ws.terminate();
  }
}

/** A gRPC length-prefixed message. */
export function envelope(payload: Uint8Array, flags = 0): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

/** Payloads of the envelopes in a body. */
export function unenvelope(body: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  for (let o = 0; o + 5 <= body.length; ) {
    const n = view.getUint32(o + 1);
    out.push(body.subarray(o + 5, o + 5 + n));
    o += 5 + n;
  }
  return out;
}

export function header(list: HeaderList, name: string): string | undefined {
  return list.find(([n]) => n === name)?.[1];
}

/** Request HEADERS for a gRPC call. */
export function grpcHeaders(streamId: number, path: string, endStream = false, extra: HeaderList = []): Frame {
  return { kind: "request-headers", streamId, endStream, method: "POST", path, headers: [["content-type", "application/grpc"], ...extra] };
}

/** Sends a unary gRPC call (raw bytes as the message) and collects the answer. */
export async function grpcCall(client: RawClient, streamId: number, path: string, message: Uint8Array) {
  client.send(grpcHeaders(streamId, path));
  const body = envelope(message);
  const step = 64 << 10; // the gateway's default MAX_FRAME_PAYLOAD
  for (let o = 0; o < body.length || o === 0; o += step) {
    client.send({ kind: "data", streamId, endStream: o + step >= body.length, data: body.subarray(o, o + step) });
  }
  return client.collect(streamId);
}

export interface H2Backend {
  url: string;
  port: number;
  /** Bytes the /test.Raw/Flood handler handed to its stream so far. */
  floodWritten: number;
  /** Streams the backend saw cancelled (closed by the client with a reset). */
  cancelled: number;
  /** Requests seen, by path. */
  seen: string[];
  /** Headers of the last request. */
  lastHeaders: http2.IncomingHttpHeaders | undefined;
  close(): Promise<void>;
}

/**
 * A real HTTP/2 (h2c) backend with raw handlers:
 *  /test.Raw/Echo      gRPC: echoes the request body, trailers grpc-status 0
 *  /test.Raw/Flood     gRPC: streams `x-flood-bytes` bytes (default 100 MB) in 64 KiB messages, honouring back-pressure
 *  /test.Raw/Hang      reads the request, never answers (until cancelled)
 *  /test.Raw/Stall     neither reads nor answers
 *  /test.Raw/Reset     answers the head, one message, then resets the stream with INTERNAL_ERROR (no END_STREAM)
 *  /test.Raw/Refuse    resets the stream with REFUSED_STREAM before any head
 *  /test.Raw/Blob      answers `x-blob-bytes` bytes as one unenveloped application/proto body
 *  /test.Raw/Headers   echoes the request's x-echo bytes in a response header and a trailer
 */
export async function startH2Backend(port = 0): Promise<H2Backend> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  const backend: H2Backend = {
    url: "",
    port: 0,
    floodWritten: 0,
    cancelled: 0,
    seen: [],
    lastHeaders: undefined,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
  server.on("stream", (stream, headers) => {
    const path = String(headers[":path"]);
    backend.seen.push(path);
    backend.lastHeaders = headers;
    stream.on("error", () => {});
    stream.on("close", () => {
      if (stream.rstCode === http2.constants.NGHTTP2_CANCEL) backend.cancelled++;
    });
    const grpcHead = { ":status": 200, "content-type": "application/grpc" };
    if (path === "/test.Raw/Echo") {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        stream.respond(grpcHead, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0", "x-echo-te": String(headers["te"] ?? "") }));
        stream.end(Buffer.concat(chunks));
      });
    } else if (path === "/test.Raw/Flood") {
      stream.resume();
      const total = Number(headers["x-flood-bytes"] ?? 100 * 1024 * 1024);
      stream.respond(grpcHead, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      const message = envelope(new Uint8Array(64 * 1024 - 5).fill(7));
      let written = 0;
      const pump = () => {
        while (written < total && !stream.destroyed) {
          written += message.length;
          backend.floodWritten += message.length;
          if (!stream.write(message)) return void stream.once("drain", pump);
        }
        if (!stream.destroyed) stream.end();
      };
      pump();
    } else if (path === "/test.Raw/Hang") {
      stream.resume();
    } else if (path === "/test.Raw/Stall") {
      // never reads the request body: HTTP/2 flow control stops the sender
    } else if (path === "/test.Raw/Reset") {
      stream.resume();
      stream.respond(grpcHead);
      // destroy(err) sends RST_STREAM INTERNAL_ERROR at once; close(code) would end the stream cleanly first.
      stream.write(envelope(new Uint8Array([1, 2, 3])), () => stream.destroy(new Error("backend failure")));
    } else if (path === "/test.Raw/Blob") {
      stream.resume();
      stream.respond({ ":status": 200, "content-type": "application/proto" });
      stream.end(Buffer.alloc(Number(headers["x-blob-bytes"] ?? 0), 1));
    } else if (path === "/test.Raw/Headers") {
      // Echoes x-echo back in the head and the trailers, exactly as received (node hands
      // header bytes over one character per byte); x-raw-reply sends those bytes as given.
      stream.resume();
      const echo = String(headers["x-echo"] ?? "");
      const head: http2.OutgoingHttpHeaders = { ...grpcHead, "x-echo": echo };
      if (headers["x-raw-reply"] !== undefined) head["x-raw"] = Buffer.from(String(headers["x-raw-reply"]), "hex").toString("latin1");
      stream.respond(head, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0", "x-echo-t": echo }));
      stream.end();
    } else if (path === "/test.Raw/Refuse") {
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    } else {
      stream.respond(
        { ":status": 200, "content-type": "application/grpc", "grpc-status": "12", "grpc-message": "unknown method" },
        { endStream: true },
      );
    }
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  backend.port = (server.address() as AddressInfo).port;
  backend.url = `http://127.0.0.1:${backend.port}`;
  return backend;
}

/** Waits until `check` is true (vi.waitFor polling, for state that has no event); `what` names it on timeout. */
export async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  await vi.waitFor(
    () => {
      if (!check()) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    },
    { timeout: timeoutMs, interval: 10 },
  );
}

/**
 * The HTTP/2 client streams this process opens from now on (the gateway's upstream calls),
 * seen through node:http2's diagnostics channel; `stop()` unsubscribes.
 */
export function watchClientStreams(): { streams: http2.ClientHttp2Stream[]; stop(): void } {
  const streams: http2.ClientHttp2Stream[] = [];
  const onCreated = (message: unknown) => streams.push((message as { stream: http2.ClientHttp2Stream }).stream);
  diagnostics.subscribe("http2.client.stream.created", onCreated);
  return { streams, stop: () => diagnostics.unsubscribe("http2.client.stream.created", onCreated) };
}

/** What a WebSocket upgrade by hand got: 101 with a way to close the socket, or a refusal's status and body. */
export interface UpgradeAnswer {
  status: number;
  body: string;
  /** Closes an admitted socket (no-op for a refusal). */
  close(): void;
}

/**
 * A WebSocket upgrade sent by hand to `url` (ws://...), to read the status and body of a
 * refusal, or hold the admitted socket (it sends no frame, not even SETTINGS).
 */
export function upgradeByHand(
  url: string,
  options: { localAddress?: string; origin?: string; protocols?: string[] } = {},
): Promise<UpgradeAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.get(url.replace(/^ws/, "http"), {
      localAddress: options.localAddress,
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "sec-websocket-protocol": (options.protocols ?? [SUBPROTOCOL]).join(", "),
        ...(options.origin && { origin: options.origin }),
      },
    });
    req.on("upgrade", (res, socket) => resolve({ status: res.statusCode ?? 0, body: "", close: () => socket.destroy() }));
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, close() {} }));
    });
    req.on("error", reject);
  });
}
