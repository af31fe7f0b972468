/**
 * In-process mode: createTunnelEndpoint mounted on a real http.Server beside ordinary
 * routes, real `ws` clients speaking the tunnel protocol (the swtunnel tunnel client under
 * Connect-ES's own transports, and raw frames), and the demo's connect-node TestService
 * dispatched in process. All on 127.0.0.1.
 */
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, createClient, createConnectRouter, createContextKey, createContextValues, type Client } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { connectRoutes, Recorder } from "../../demo/backend/index.js";
import { TestService, UnaryRequestSchema } from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { createTransportOverTunnel, createTunnelClient, type TunnelClient } from "../../client/index.js";
import { ErrorCode, SUBPROTOCOL } from "../../protocol/index.js";
import { createGateway, createTunnelEndpoint, type TunnelEndpoint, type TunnelEndpointOptions } from "../../server/index.js";
import { makeSelfSignedCert } from "../../tools/tls.js";
import { describeCallKinds, failure } from "../tunnel/call-kinds.js";
import { RawClient, envelope, grpcHeaders, header } from "./helpers.js";

const SERVICE = "swtunnel.test.v1.TestService";
const LIMIT = 64 << 10;

interface App {
  server: http.Server;
  endpoint: TunnelEndpoint;
  /** `http://127.0.0.1:port` */
  url: string;
  tunnelUrl: string;
  close(): Promise<void>;
}

/** The app: its own routes (/hello, anything else 404) and the tunnel endpoint attached beside them. */
async function startApp(options: TunnelEndpointOptions): Promise<App> {
  const server = http.createServer((req, res) => {
    if (req.url === "/hello") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("hello from the app\n");
      return;
    }
    res.writeHead(404);
    res.end();
  });
  const endpoint = createTunnelEndpoint({ logLevel: "silent", ...options });
  endpoint.attach(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    endpoint,
    url: `http://127.0.0.1:${port}`,
    tunnelUrl: `ws://127.0.0.1:${port}${endpoint.path}`,
    close: async () => {
      await endpoint.close(0);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The HTTP answer to a WebSocket upgrade that is refused. */
function upgrade(url: string, options: { origin?: string; protocols?: string[] } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [SUBPROTOCOL], { origin: options.origin });
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on("open", () => {
      ws.terminate();
      resolve({ status: 101, body: "" });
    });
    ws.on("error", (err) => {
      if (!String(err.message).includes("Unexpected server response")) reject(err);
    });
  });
}

async function metric(endpoint: TunnelEndpoint, sample: string): Promise<number> {
  const text = await endpoint.metrics.metrics();
  const line = text.split("\n").find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}

const recorder = new Recorder();
let app: App;
let tunnel: TunnelClient;

beforeAll(async () => {
  app = await startApp({ routes: connectRoutes(recorder), maxMessageBytes: LIMIT, allowServices: [SERVICE] });
  tunnel = createTunnelClient({ url: app.tunnelUrl, WebSocket });
});

afterAll(async () => {
  tunnel?.close();
  await app?.close();
});

describeCallKinds({ name: "the in-process handlers", tunnel: () => tunnel, unaryBytes: { request: 30_000, response: 40_000 } });

describe("limits", () => {
  let client: Client<typeof TestService>;
  beforeAll(() => {
    client = createClient(TestService, createTransportOverTunnel({ client: tunnel }));
  });

  it("a deadline that passes ends the call with deadline_exceeded and aborts the handler", async () => {
    const id = `deadline-${Date.now()}`;
    const err = await failure(client.unary({ id, text: "x", delayMs: 10_000 }, { timeoutMs: 200 }));
    expect(err?.code).toBe(Code.DeadlineExceeded);
    await expect.poll(() => recorder.get(id).cancelled, { timeout: 10_000, interval: 5 }).toBe(true);
  });

  it("a message over maxMessageBytes: resource_exhausted, the handler never runs, other calls unaffected", async () => {
    const id = `big-${Date.now()}`;
    const err = await failure(client.unary({ id, text: "x", payload: new Uint8Array(LIMIT + 1) }));
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(err?.rawMessage).toMatch(/exceeds the limit of 65536/);
    expect(recorder.get(id).seen).toBe(false);
    expect((await client.unary({ text: "still fine" })).text).toBe("still fine");
  });
});

describe("an unknown method", () => {
  // The standalone gateway passes connect-node's bare 404 through, which Connect-ES clients
  // read as unimplemented too; here the answer is the protocol's own unimplemented, with a message.
  it("is unimplemented in the client's protocol (gRPC status 12, Connect 501 unimplemented), naming the path", async () => {
    const c = await RawClient.connect(app.tunnelUrl);
    try {
      const path = `/${SERVICE}/Unari`;
      c.send(grpcHeaders(1, path));
      c.send({ kind: "data", streamId: 1, endStream: true, data: envelope(new Uint8Array(0)) });
      const grpc = await c.collect(1);
      expect(header(grpc.headers, "grpc-status") ?? header(grpc.trailers, "grpc-status")).toBe("12");
      const grpcMessage = decodeURIComponent(header(grpc.headers, "grpc-message") ?? header(grpc.trailers, "grpc-message") ?? "");
      expect(grpcMessage).toBe(`no method Unari in service ${SERVICE}; did you mean Unary?`);

      c.send({
        kind: "request-headers",
        streamId: 3,
        endStream: false,
        method: "POST",
        path: `/${SERVICE}/Nope`,
        headers: [["content-type", "application/json"]],
      });
      c.send({ kind: "data", streamId: 3, endStream: true, data: new TextEncoder().encode("{}") });
      const connect = await c.collect(3);
      expect(connect.status).toBe(501);
      expect(JSON.parse(new TextDecoder().decode(connect.body))).toEqual({
        code: "unimplemented",
        message: `no method Nope in service ${SERVICE}`,
      });
    } finally {
      c.close();
    }
  });
});

describe("Connect GET", () => {
  it("is refused for a method without NO_SIDE_EFFECTS by the handler itself (405), as a Connect upstream does", async () => {
    const c = await RawClient.connect(app.tunnelUrl);
    try {
      c.send({
        kind: "request-headers",
        streamId: 1,
        endStream: true,
        method: "GET",
        path: `/${SERVICE}/Unary?encoding=json&message=${encodeURIComponent("{}")}`,
        headers: [],
      });
      expect((await c.collect(1)).status).toBe(405);
    } finally {
      c.close();
    }
  });
});

describe("admission", () => {
  it("an Origin other than the app's own is refused with 403; the app's own origin is admitted", async () => {
    const before = await metric(app.endpoint, 'swtunnel_upgrades_rejected_total{status="403"}');
    expect(await upgrade(app.tunnelUrl, { origin: "https://evil.example" })).toEqual({
      status: 403,
      body: `Origin https://evil.example is not this gateway's origin ${app.url}; set --allow-origin to admit other origins\n`,
    });
    expect(await metric(app.endpoint, 'swtunnel_upgrades_rejected_total{status="403"}')).toBe(before + 1);
    expect((await upgrade(app.tunnelUrl, { origin: app.url })).status).toBe(101);
  });

  it("an upgrade without the tunnel subprotocol is refused with 400", async () => {
    expect(await upgrade(app.tunnelUrl, { protocols: ["chat"] })).toEqual({
      status: 400,
      body: `the WebSocket subprotocol ${SUBPROTOCOL} is required\n`,
    });
  });

  it("maxSocketsPerIp counts sockets from the upgrade on", async () => {
    const limited = await startApp({ routes: connectRoutes(recorder), maxSocketsPerIp: 1 });
    try {
      const [a, b] = await Promise.all([upgradeAndHold(limited.tunnelUrl), upgrade(limited.tunnelUrl)]);
      expect([a.status, b.status].sort()).toEqual([101, 429]);
      a.ws?.terminate();
    } finally {
      await limited.close();
    }
  });
});

function upgradeAndHold(url: string): Promise<{ status: number; ws?: WebSocket }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, [SUBPROTOCOL]);
    ws.on("open", () => resolve({ status: 101, ws }));
    ws.on("unexpected-response", (_req, res) => resolve({ status: res.statusCode ?? 0 }));
    ws.on("error", () => {});
  });
}

describe("the app's own server", () => {
  it("still serves its ordinary routes beside the tunnel, and other upgrade paths are answered 400", async () => {
    const client = createClient(TestService, createTransportOverTunnel({ client: tunnel }));
    expect((await client.unary({ text: "tunnel" })).text).toBe("tunnel");
    const res = await fetch(`${app.url}/hello`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("hello from the app\n");
    expect((await fetch(`${app.url}/elsewhere`)).status).toBe(404);
    expect(await upgrade(`ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/other`)).toEqual({
      status: 400,
      body: "no WebSocket endpoint at /other; the tunnel path is /tunnel\n",
    });
  });
});

describe("on an HTTP/2 server", () => {
  it("attaches to http2.createSecureServer({ allowHTTP1 }): tunnel over wss beside connect-node's own HTTP/2 clients", async () => {
    const { key, cert } = await makeSelfSignedCert();
    const server = http2.createSecureServer({ key, cert, allowHTTP1: true }, connectNodeAdapter({ routes: connectRoutes(recorder) }));
    const endpoint = createTunnelEndpoint({ routes: connectRoutes(recorder), logLevel: "silent" });
    endpoint.attach(server);
    const open = new Set<http2.ServerHttp2Session>();
    server.on("session", (session) => {
      open.add(session);
      session.once("close", () => open.delete(session));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    class TrustingWebSocket extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols, { ca: cert });
      }
    }
    const t = createTunnelClient({ url: `wss://127.0.0.1:${port}/tunnel`, WebSocket: TrustingWebSocket });
    try {
      const viaTunnel = createClient(TestService, createTransportOverTunnel({ client: t }));
      expect((await viaTunnel.unary({ text: "over wss" })).text).toBe("over wss");
      const direct = createClient(TestService, createGrpcTransport({ baseUrl: `https://127.0.0.1:${port}`, nodeOptions: { ca: cert } }));
      expect((await direct.unary({ text: "over h2" })).text).toBe("over h2");
    } finally {
      t.close();
      await endpoint.close(0);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const session of open) session.destroy();
      });
    }
  });
});

describe("streamIdleTimeoutMs", () => {
  it("a handler that answers nothing: the client gets deadline_exceeded and the handler's signal aborts", async () => {
    const router = createConnectRouter();
    let aborted: () => void = () => {};
    const handlerAborted = new Promise<void>((resolve) => (aborted = resolve));
    router.service(TestService, {
      unary: async (_req, ctx) => {
        await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
        aborted();
        return {};
      },
    });
    const own = await startApp({ handlers: router.handlers, streamIdleTimeoutMs: 100 });
    const t = createTunnelClient({ url: own.tunnelUrl, WebSocket });
    try {
      const client = createClient(TestService, createTransportOverTunnel({ client: t }));
      const err = await failure(client.unary({ text: "silence" }));
      expect(err?.code).toBe(Code.DeadlineExceeded);
      expect(err?.rawMessage).toBe("no frame on the stream for 100 ms (streamIdleTimeoutMs)");
      await handlerAborted;
    } finally {
      t.close();
      await own.close();
    }
  });
});

describe("contextValues", () => {
  it("gives each call values from its socket's upgrade request (here a cookie)", async () => {
    const user = createContextKey("nobody");
    const router = createConnectRouter();
    router.service(TestService, { unary: (req, ctx) => ({ text: `${req.text} ${ctx.values.get(user)}` }) });
    const own = await startApp({
      handlers: router.handlers,
      contextValues: (upgrade) => createContextValues().set(user, /user=(\w+)/.exec(upgrade.headers.cookie ?? "")?.[1] ?? "nobody"),
    });
    class WithCookie extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols, { headers: { cookie: "user=ada" } });
      }
    }
    const withCookie = createTunnelClient({ url: own.tunnelUrl, WebSocket: WithCookie });
    const without = createTunnelClient({ url: own.tunnelUrl, WebSocket });
    try {
      const a = createClient(TestService, createTransportOverTunnel({ client: withCookie }));
      const b = createClient(TestService, createTransportOverTunnel({ client: without }));
      expect((await a.unary({ text: "hi" })).text).toBe("hi ada");
      expect((await b.unary({ text: "hi" })).text).toBe("hi nobody");
    } finally {
      withCookie.close();
      without.close();
      await own.close();
    }
  });
});

describe("metrics", () => {
  it("has the gateway's metric names and counts sockets, streams and calls by method and status", async () => {
    const gw = await createGateway({ upstream: "http://127.0.0.1:9", port: 0, logLevel: "silent" });
    const gatewayNames = (await gw.metrics.getMetricsAsJSON()).map((m) => m.name).sort();
    await gw.close(0);
    expect((await app.endpoint.metrics.getMetricsAsJSON()).map((m) => m.name).sort()).toEqual(gatewayNames);

    const sample = `swtunnel_call_duration_seconds_count{method="/${SERVICE}/Fail",status="5"}`;
    const before = await metric(app.endpoint, sample);
    const streamsBefore = await metric(app.endpoint, "swtunnel_streams_total");
    const client = createClient(TestService, createTransportOverTunnel({ client: tunnel }));
    await failure(client.fail({ code: Code.NotFound, message: "m" }));
    await expect.poll(() => metric(app.endpoint, sample)).toBe(before + 1);
    expect(await metric(app.endpoint, "swtunnel_streams_total")).toBe(streamsBefore + 1);
    expect(await metric(app.endpoint, "swtunnel_sockets")).toBeGreaterThanOrEqual(1);
    expect(await metric(app.endpoint, "swtunnel_sockets_total")).toBeGreaterThanOrEqual(1);
  });
});

describe("flow control", () => {
  it("a handler that never reads returns no window: the client cannot send past the stream window", async () => {
    const router = createConnectRouter();
    let started: () => void = () => {};
    const handlerStarted = new Promise<void>((resolve) => (started = resolve));
    router.service(TestService, {
      clientStream: async (_requests, ctx) => {
        started();
        await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
        return {};
      },
    });
    const window = 16 << 10;
    const own = await startApp({ handlers: router.handlers, streamWindow: window });
    const c = await RawClient.connect(own.tunnelUrl);
    try {
      c.send(grpcHeaders(1, `/${SERVICE}/ClientStream`));
      await handlerStarted;
      c.send({ kind: "data", streamId: 1, endStream: false, data: new Uint8Array(window) });
      c.send({ kind: "data", streamId: 1, endStream: false, data: new Uint8Array(1) });
      const rst = await c.next((f) => f.kind === "rst" && f.streamId === 1);
      expect(rst).toMatchObject({ code: ErrorCode.FLOW_CONTROL_ERROR });
      expect(c.frames.filter((f) => f.kind === "window-update" && f.streamId === 1)).toEqual([]);
    } finally {
      c.close();
      await own.close();
    }
  });
});

describe("drain", () => {
  it("close() lets calls in flight finish, sends GOAWAY, refuses new streams and upgrades; the app server stays up", async () => {
    const own = await startApp({ routes: connectRoutes(recorder) });
    const t = createTunnelClient({ url: own.tunnelUrl, WebSocket });
    const raw = await RawClient.connect(own.tunnelUrl);
    try {
      const client = createClient(TestService, createTransportOverTunnel({ client: t }));
      const id = `drain-${Date.now()}`;
      const inFlight = client.unary({ id, text: "finishing", delayMs: 300 });
      const rawId = `${id}-raw`;
      raw.send(grpcHeaders(1, `/${SERVICE}/Unary`));
      const message = toBinary(UnaryRequestSchema, create(UnaryRequestSchema, { id: rawId, text: "raw", delayMs: 300 }));
      raw.send({ kind: "data", streamId: 1, endStream: true, data: envelope(message) });
      await expect.poll(() => recorder.get(id).seen && recorder.get(rawId).seen, { timeout: 10_000, interval: 5 }).toBe(true);
      const closed = own.endpoint.close(10_000);
      expect(await raw.next((f) => f.kind === "goaway")).toMatchObject({ code: ErrorCode.NO_ERROR });
      expect(own.endpoint.stats().draining).toBe(true);
      // New streams go elsewhere: refused on the draining socket, new sockets refused with 503.
      raw.send(grpcHeaders(3, `/${SERVICE}/Unary`, true));
      expect(await raw.next((f) => f.kind === "rst" && f.streamId === 3)).toMatchObject({ code: ErrorCode.REFUSED_STREAM });
      expect((await upgrade(own.tunnelUrl)).status).toBe(503);
      expect((await inFlight).text).toBe("finishing");
      const rawResult = await raw.collect(1);
      expect(header(rawResult.trailers, "grpc-status")).toBe("0");
      await closed;
      expect(own.endpoint.stats().sockets).toBe(0);
      expect((await fetch(`${own.url}/hello`)).status).toBe(200);
    } finally {
      t.close();
      raw.close();
      await own.close();
    }
  });
});

describe("options", () => {
  it("refuses bad options: routes and handlers together or neither, router options with handlers, a bad gateway option", () => {
    expect(() => createTunnelEndpoint({})).toThrow(/routes .* or handlers, exactly one/);
    expect(() => createTunnelEndpoint({ routes: () => {}, handlers: [] })).toThrow(/exactly one/);
    expect(() => createTunnelEndpoint({ handlers: [], router: { readMaxBytes: 1 } })).toThrow(
      "router options apply to routes; with ready handlers, pass them to createConnectRouter yourself",
    );
    expect(() => createTunnelEndpoint({ routes: () => {}, path: "tunnel" })).toThrow('path must start with "/", got "tunnel"');
  });
});
