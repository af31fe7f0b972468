/**
 * The HTTP/2 upstream pool through a real gateway: widening past the backend's
 * MAX_CONCURRENT_STREAMS, reconnecting after the backend ends its sessions, keepalive
 * PINGs that retire a dead session, TLS upstreams, and header hygiene towards the backend.
 */
import { writeSelfSignedCert } from "../../tools/tls.js";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http2 from "node:http2";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { ErrorCode, encodeFrame } from "../../protocol/index.js";
import { createGateway, type Gateway } from "../../server/index.js";
import { RawClient, envelope, grpcCall, grpcHeaders, header, unenvelope, until } from "./helpers.js";

const silent = pino({ level: "silent" });

/** A node:http2 backend whose /test.Pool/Echo handler is supplied per test. */
interface Backend {
  url: string;
  port: number;
  /** Every session the backend accepted, in order. */
  sessions: http2.ServerHttp2Session[];
  /** PING frames received, over all sessions. */
  pings: number;
  /** Headers of every request. */
  requests: http2.IncomingHttpHeaders[];
  close(): Promise<void>;
}

type Handler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void;

/** Answers a gRPC call by echoing its body, with grpc-status 0. */
const echo: Handler = (stream) => {
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  stream.on("end", () => {
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.end(Buffer.concat(chunks));
  });
};

async function startBackend(
  handler: Handler,
  options: { settings?: http2.Settings; tls?: { key: Buffer; cert: Buffer } } = {},
): Promise<Backend> {
  const server = options.tls
    ? http2.createSecureServer({ ...options.tls, settings: options.settings })
    : http2.createServer({ settings: options.settings });
  const backend: Backend = {
    url: "",
    port: 0,
    sessions: [],
    pings: 0,
    requests: [],
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of backend.sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
  server.on("session", (s) => {
    backend.sessions.push(s);
    s.on("ping", () => backend.pings++);
    s.on("error", () => {});
  });
  server.on("stream", (stream, headers) => {
    backend.requests.push(headers);
    stream.on("error", () => {});
    handler(stream, headers);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  backend.port = (server.address() as AddressInfo).port;
  backend.url = `${options.tls ? "https" : "http"}://127.0.0.1:${backend.port}`;
  return backend;
}

/**
 * A TCP proxy in front of a backend. `freeze()` stops forwarding on every connection open
 * at that moment (a peer that went silent without closing); later connections forward.
 */
async function startProxy(targetPort: number) {
  const pairs: Array<[net.Socket, net.Socket]> = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, "127.0.0.1");
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    pairs.push([client, upstream]);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get connections() {
      return pairs.length;
    },
    freeze() {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const [a, b] of pairs) {
          a.destroy();
          b.destroy();
        }
        server.close(() => resolve());
      }),
  };
}

async function metric(gateway: Gateway, name: string): Promise<number> {
  const text = await gateway.metrics.metrics();
  const m = new RegExp(`^${name} (\\d+)$`, "m").exec(text);
  if (!m) throw new Error(`metric ${name} not found`);
  return Number(m[1]);
}

async function expectEcho(client: RawClient, id: number): Promise<void> {
  const result = await grpcCall(client, id, "/test.Pool/Echo", new Uint8Array([id & 0xff]));
  expect(header(result.trailers, "grpc-status")).toBe("0");
  expect(unenvelope(result.body)).toEqual([new Uint8Array([id & 0xff])]);
}

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function gatewayFor(upstream: string, extra: Partial<Parameters<typeof createGateway>[0]> = {}) {
  const gateway = await createGateway({ upstream, port: 0, logger: silent, ...extra });
  cleanups.push(() => gateway.close(100));
  const client = await RawClient.connect(gateway.tunnelUrl);
  cleanups.push(() => client.close());
  return { gateway, client };
}

describe("widening", () => {
  it("opens more sessions instead of queueing past the backend's MAX_CONCURRENT_STREAMS", async () => {
    // Each call is answered only once all six are open at the backend at the same time:
    // a pool that queued streams beyond the limit of 2 would never complete them.
    const held: http2.ServerHttp2Stream[] = [];
    const perSession = new Map<http2.Http2Session, number>();
    let maxPerSession = 0;
    const backend = await startBackend(
      (stream) => {
        const s = stream.session!;
        perSession.set(s, (perSession.get(s) ?? 0) + 1);
        maxPerSession = Math.max(maxPerSession, perSession.get(s)!);
        stream.on("close", () => perSession.set(s, perSession.get(s)! - 1));
        if (held.length >= 6) return echo(stream, {});
        held.push(stream);
        if (held.length === 6) for (const h of held) echo(h, {});
      },
      { settings: { maxConcurrentStreams: 2 } },
    );
    cleanups.push(() => backend.close());
    const { gateway, client } = await gatewayFor(backend.url);
    const ids = [1, 3, 5, 7, 9, 11];
    for (const id of ids) {
      client.send(grpcHeaders(id, "/test.Pool/Echo"));
      client.send({ kind: "data", streamId: id, endStream: true, data: envelope(new Uint8Array([id])) });
    }
    // RawClient.collect reads frames in order, so interleaved streams are read from `frames`.
    const ended = (id: number) => client.frames.some((f) => (f.kind === "trailers" || f.kind === "rst") && f.streamId === id);
    await until(() => ids.every(ended), "all six calls to end");
    for (const id of ids) {
      const frames = client.frames.filter((f) => "streamId" in f && f.streamId === id);
      const trailers = frames.find((f) => f.kind === "trailers");
      expect(trailers?.kind === "trailers" && header(trailers.trailers, "grpc-status")).toBe("0");
      const body = Buffer.concat(frames.flatMap((f) => (f.kind === "data" ? [f.data] : [])));
      expect(unenvelope(new Uint8Array(body))).toEqual([new Uint8Array([id])]);
    }
    expect(backend.sessions.length).toBe(3);
    expect(maxPerSession).toBe(2);
    expect(gateway.stats().upstreamSessions).toBe(3);
    expect(await metric(gateway, "swtunnel_upstream_sessions")).toBe(3);
    // Idle again: later calls reuse the open sessions rather than opening more.
    await expectEcho(client, 13);
    await expectEcho(client, 15);
    expect(backend.sessions.length).toBe(3);
  });
});

describe("receive windows towards the backend", () => {
  it("announces the gateway's stream window and frame size, and widens the session window", async () => {
    const backend = await startBackend(echo);
    cleanups.push(() => backend.close());
    const { client } = await gatewayFor(backend.url, { streamWindow: 3 << 20, connectionWindow: 5 << 20, maxFramePayload: 128 << 10 });
    await expectEcho(client, 1);
    const session = backend.sessions[0]!;
    expect(session.remoteSettings.initialWindowSize).toBe(3 << 20);
    expect(session.remoteSettings.maxFrameSize).toBe(128 << 10);
    // What the backend may still send on the whole session: the widened window, less the echo.
    await until(() => (session.state.remoteWindowSize ?? 0) > 4 << 20, "the session WINDOW_UPDATE");
  });
});

describe("reconnect", () => {
  let backend: Backend;
  let gateway: Gateway;
  let client: RawClient;
  let id = -1;
  const call = () => expectEcho(client, (id += 2));
  beforeAll(async () => {
    backend = await startBackend(echo);
    cleanups.push(() => backend.close());
    ({ gateway, client } = await gatewayFor(backend.url));
  });

  it("opens a new session after the backend destroys its session", async () => {
    await call();
    const before = backend.sessions.length;
    backend.sessions.at(-1)!.destroy();
    await until(() => gateway.stats().upstreamSessions === 0, "the pool to drop the closed session");
    expect(await metric(gateway, "swtunnel_upstream_sessions")).toBe(0);
    await call();
    expect(backend.sessions.length).toBe(before + 1);
    expect(gateway.stats().upstreamSessions).toBe(1);
  });

  it("opens a new session after the backend sends GOAWAY", async () => {
    await call();
    const before = backend.sessions.length;
    backend.sessions.at(-1)!.goaway(http2.constants.NGHTTP2_NO_ERROR);
    await until(() => gateway.stats().upstreamSessions === 0, "the pool to retire the session");
    await call();
    expect(backend.sessions.length).toBe(before + 1);
  });

  it("an upstream connection lost mid-call fails that call with unavailable (not cancelled); the next call reconnects", async () => {
    const hung = await startBackend((stream, headers) => {
      if (headers[":path"] === "/test.Pool/Hang") stream.session!.destroy();
      else echo(stream, headers);
    });
    cleanups.push(() => hung.close());
    const { gateway: gw, client: c } = await gatewayFor(hung.url);
    c.send(grpcHeaders(1, "/test.Pool/Hang", true));
    const failed = await c.collect(1);
    expect(header(failed.headers, "grpc-status")).toBe("14");
    expect(decodeURIComponent(header(failed.headers, "grpc-message") ?? "")).toMatch(
      /\/test\.Pool\/Hang: the upstream connection was lost/,
    );
    await until(() => gw.stats().upstreamSessions === 0, "the pool to drop the cut session");
    const ok = await grpcCall(c, 3, "/test.Pool/Echo", new Uint8Array([3]));
    expect(header(ok.trailers, "grpc-status")).toBe("0");
  });
});

describe("keepalive", () => {
  it("PINGs each session, and retires a session whose backend stops answering", async () => {
    const backend = await startBackend(echo);
    cleanups.push(() => backend.close());
    const proxy = await startProxy(backend.port);
    cleanups.push(() => proxy.close());
    // Logs are captured to tell the mechanism: the unanswered PING itself, not node's cap of
    // 10 outstanding PINGs (which would take 10 intervals: 5 minutes at the default).
    const logs: Array<{ msg: string }> = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => void logs.push(JSON.parse(line)) });
    const { gateway, client } = await gatewayFor(proxy.url, { upstreamPingIntervalMs: 100, logger });
    await expectEcho(client, 1);
    await until(() => backend.pings >= 3, "the backend to receive PINGs");
    expect(gateway.stats().upstreamSessions).toBe(1);
    proxy.freeze();
    await until(() => gateway.stats().upstreamSessions === 0, "the pool to retire the silent session");
    expect(logs.map((l) => l.msg)).toContain("upstream did not answer a PING for 2 ping intervals; closing session");
    expect(logs.map((l) => l.msg)).not.toContain("upstream ping failed; closing session");
    await expectEcho(client, 3);
    expect(proxy.connections).toBe(2);
    expect(backend.sessions.length).toBe(2);
  });
});

describe("TLS upstream", () => {
  let dir: string;
  let tls: { key: Buffer; cert: Buffer };
  let backend: Backend;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "swtunnel-tls-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeSelfSignedCert(dir);
    tls = { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) };
    backend = await startBackend(echo, { tls });
    cleanups.push(() => backend.close());
  });

  it("works with upstreamCa", async () => {
    const { gateway, client } = await gatewayFor(backend.url, { upstreamCa: tls.cert });
    await expectEcho(client, 1);
    expect(gateway.stats().upstreamSessions).toBe(1);
  });

  it("fails with a clear unavailable error without it", async () => {
    const { client } = await gatewayFor(backend.url);
    client.send(grpcHeaders(1, "/test.Pool/Echo", true));
    const result = await client.collect(1);
    expect(header(result.headers, "grpc-status")).toBe("14");
    const message = decodeURIComponent(header(result.headers, "grpc-message") ?? "");
    expect(message).toMatch(/cannot reach the upstream \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
    expect(message).not.toContain(new URL(backend.url).host); // the address is in the log only
    expect(message).toMatch(/set upstreamCa \/ --upstream-ca to the PEM CA/);
  });
});

describe("headers towards the upstream", () => {
  let backend: Backend;
  let gateway: Gateway;
  let client: RawClient;
  beforeAll(async () => {
    backend = await startBackend(echo);
    cleanups.push(() => backend.close());
    // A Connect upstream: requests pass through untouched except for header hygiene.
    ({ gateway, client } = await gatewayFor(backend.url, { upstreamProtocol: "connect" }));
  });

  const hopByHop: Array<[string, string]> = [
    ["connection", "keep-alive"],
    ["keep-alive", "timeout=5"],
    ["transfer-encoding", "chunked"],
    ["upgrade", "websocket"],
    ["te", "gzip"],
    ["proxy-connection", "keep-alive"],
    ["host", "evil.example"],
    ["http2-settings", "AAMAAABkAAQAoAAAAAIAAAAA"],
  ];

  async function send(id: number, headers: Array<[string, string]>): Promise<http2.IncomingHttpHeaders> {
    const seen = backend.requests.length;
    client.send({
      kind: "request-headers",
      streamId: id,
      endStream: false,
      method: "POST",
      path: "/test.Pool/Echo",
      headers: [["content-type", "application/json"], ["x-keep", "yes"], ...headers],
    });
    client.send({ kind: "data", streamId: id, endStream: true, data: new TextEncoder().encode("{}") });
    const result = await client.collect(id);
    expect(result.rst).toBeUndefined();
    expect(backend.requests.length).toBe(seen + 1);
    return backend.requests.at(-1)!;
  }

  it("drops every hop-by-hop header; :authority is the upstream's", async () => {
    const got = await send(1, hopByHop);
    for (const [name] of hopByHop) expect(got[name], name).toBeUndefined();
    expect(got["x-keep"]).toBe("yes");
    expect(got[":authority"]).toBe(`127.0.0.1:${backend.port}`);
  });

  it("forwards te: trailers, and adds nothing when the client sent no te", async () => {
    expect((await send(3, [["te", "trailers"]]))["te"]).toBe("trailers");
    expect((await send(5, []))["te"]).toBeUndefined();
  });

  it("adds te: trailers to a gRPC request after dropping te: gzip", async () => {
    const got = await send(7, []);
    expect(got["te"]).toBeUndefined();
    const { client: grpc } = await gatewayFor(backend.url);
    grpc.send(grpcHeaders(1, "/test.Pool/Echo", false, [["te", "gzip"]]));
    grpc.send({ kind: "data", streamId: 1, endStream: true, data: envelope(new Uint8Array([1])) });
    const result = await grpc.collect(1);
    expect(header(result.trailers, "grpc-status")).toBe("0");
    expect(backend.requests.at(-1)!["te"]).toBe("trailers");
  });

  let rawId = 99;

  /** A request HEADERS frame whose header block holds `name: value` byte for byte. */
  function rawHeaders(id: number, name: string, value: string): Uint8Array {
    // Encode valid placeholders of the same lengths, then swap the bytes in.
    const bytes = encodeFrame({
      kind: "request-headers",
      streamId: id,
      endStream: true,
      method: "POST",
      path: "/test.Pool/Echo",
      headers: [
        ["content-type", "application/json"],
        ["n".repeat(name.length), "v".repeat(value.length)],
      ],
    });
    const at = Buffer.from(bytes).lastIndexOf(Buffer.from(`${"n".repeat(name.length)}\0\0\0`));
    Buffer.from(bytes.buffer, bytes.byteOffset).write(name, at, "latin1");
    Buffer.from(bytes.buffer, bytes.byteOffset).write(value, at + name.length + 4, "latin1");
    return bytes;
  }

  it.each([
    ["an uppercase name", "X-Bad", "v", /malformed header block: entry 1: invalid name "X-Bad"/],
    ["a pseudo-header name", ":path", "/other", /malformed header block: entry 1: invalid name ":path"/],
    ["a name with a space", "x bad", "v", /malformed header block: entry 1: invalid name "x bad"/],
    ["a value with CR LF", "x-bad", "a\r\nx-injected: 1", /malformed header block: entry 1 \(x-bad\): value contains NUL, CR or LF/],
    ["a value with NUL", "x-bad", "a\0b", /malformed header block: entry 1 \(x-bad\): value contains NUL, CR or LF/],
  ])("rejects %s with RST_STREAM PROTOCOL_ERROR before the upstream", async (_what, name, value, message) => {
    const seen = backend.requests.length;
    const id = (rawId += 2);
    client.sendRaw(rawHeaders(id, name, value));
    const rst = await client.next((f) => f.kind === "rst" && f.streamId === id);
    expect(rst).toMatchObject({ code: ErrorCode.PROTOCOL_ERROR });
    if (rst.kind === "rst") expect(rst.message).toMatch(message);
    expect(backend.requests.length).toBe(seen);
    expect(gateway.stats().sockets).toBeGreaterThan(0);
  });
});
