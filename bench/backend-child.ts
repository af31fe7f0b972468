/**
 * Benchmark child process holding the backends, so that their CPU never competes with the
 * gateway's event loop or the load generator's: the grpc-js backend, the Connect backend
 * on h2c (the tunnel's upstream), on HTTP/1.1 with CORS and on HTTP/2 + TLS with CORS
 * (the browser's direct paths), and a raw WebSocket echo server (the floor).
 */
import http2 from "node:http2";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import {
  Recorder,
  applyCors,
  createConnectHandler,
  startConnectBackend,
  startConnectBackendHttp1,
  startGrpcBackend,
} from "../demo/backend/index.js";
import { processUsage, serveParent } from "./child.js";

/** What to start. */
export interface BackendRequest {
  grpc?: boolean;
  connectH2c?: boolean;
  connectH1?: boolean;
  /** PEM key and certificate for the HTTP/2 + TLS Connect backend. */
  connectH2Tls?: { key: string; cert: string };
  echo?: boolean;
}

/** URLs of what was started. */
export interface BackendUrls {
  grpc?: string;
  connectH2c?: string;
  connectH1?: string;
  connectH2Tls?: string;
  echo?: string;
}

const closers: (() => Promise<void>)[] = [];
let stopping: Promise<void> | undefined;

async function start(request: BackendRequest): Promise<BackendUrls> {
  const urls: BackendUrls = {};
  if (request.grpc) {
    const backend = await startGrpcBackend({ recorder: new Recorder({ maxIds: 100 }) });
    closers.push(() => backend.close());
    urls.grpc = backend.url;
  }
  if (request.connectH2c) {
    const backend = await startConnectBackend({ recorder: new Recorder({ maxIds: 100 }) });
    closers.push(() => backend.close());
    urls.connectH2c = backend.url;
  }
  if (request.connectH1) {
    const backend = await startConnectBackendHttp1({ recorder: new Recorder({ maxIds: 100 }) });
    closers.push(() => backend.close());
    urls.connectH1 = backend.url;
  }
  if (request.connectH2Tls) {
    urls.connectH2Tls = await startH2Tls(request.connectH2Tls);
  }
  if (request.echo) {
    urls.echo = await startEcho();
  }
  return urls;
}

/** The same Connect handler on HTTP/2 over TLS, with the HTTP/1.1 backend's CORS. */
async function startH2Tls(tls: { key: string; cert: string }): Promise<string> {
  const handler = createConnectHandler(new Recorder({ maxIds: 100 }));
  const server = http2.createSecureServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    // applyCors only reads headers and sets response headers, which both APIs share.
    if (applyCors(req as unknown as IncomingMessage, res as unknown as ServerResponse)) return;
    handler(req, res);
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.once("close", () => sessions.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  );
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * Echoes every WebSocket binary message back unchanged, and on the same port the body of
 * every HTTP POST (with CORS): the floors of the WebSocket and of the fetch paths.
 */
async function startEcho(): Promise<string> {
  const server = createServer((req, res) => {
    res.setHeader("access-control-allow-origin", "*");
    res.setHeader("access-control-allow-headers", "*");
    res.setHeader("access-control-max-age", "7200");
    if (req.method === "OPTIONS") {
      res.writeHead(204).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 64 << 20 });
  wss.on("connection", (socket) => {
    socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function stop(): Promise<void> {
  stopping ??= Promise.allSettled(closers.map((close) => close())).then(() => undefined);
  return stopping;
}

serveParent(
  {
    start: (body) => start(body as BackendRequest),
    usage: (body) => processUsage(Boolean((body as { gc?: boolean } | undefined)?.gc)),
  },
  stop,
);
