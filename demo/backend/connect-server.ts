/**
 * TestService and DemoService on @connectrpc/connect-node, serving the Connect, gRPC and
 * gRPC-Web protocols. Three listeners: h2c (startConnectBackend), HTTP/2 over TLS with
 * HTTP/1.1 fallback (startConnectBackend with `tls`), and plain HTTP/1.1 with CORS for
 * pages that call it directly (startConnectBackendHttp1).
 */
import * as http from "node:http";
import * as http2 from "node:http2";
import type { Socket } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { ConnectRouter, HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { DemoService } from "../gen/swtunnel/demo/v1/demo_pb.js";
import { TestService } from "../gen/swtunnel/test/v1/test_pb.js";
import { closeGraceMs, type Backend, type ListenOptions } from "./backend.js";
import { applyCors } from "./cors.js";
import { echoTrailerName, isEchoHeader } from "./metadata-echo.js";
import { Recorder } from "./recorder.js";
import * as svc from "./service.js";

/** Options of {@link startConnectBackend}. */
export interface ConnectBackendOptions extends ListenOptions {
  /** PEM key and certificate: serve HTTP/2 over TLS (HTTP/1.1 allowed too) instead of h2c. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Largest message the server reads, in bytes. Default 64 MiB (benchmarks send big ones). */
  maxMessageBytes?: number;
}

/** Options of {@link startConnectBackendHttp1}. */
export type ConnectBackendHttp1Options = Omit<ConnectBackendOptions, "tls">;

const defaultMaxMessageBytes = 64 * 1024 * 1024;

/** Echoes x-echo- headers and makes the shared CallContext from Connect's HandlerContext. */
function prepare(hctx: HandlerContext, recorder: Recorder): svc.CallContext {
  for (const [name, value] of hctx.requestHeader) {
    if (!isEchoHeader(name)) continue;
    hctx.responseHeader.set(name, value);
    hctx.responseTrailer.set(echoTrailerName(name), value);
  }
  return { signal: hctx.signal, timeoutMs: hctx.timeoutMs(), recorder };
}

function testImpl(recorder: Recorder): ServiceImpl<typeof TestService> {
  return {
    unary: (req, hctx) => svc.unary(req, prepare(hctx, recorder)),
    serverStream: (req, hctx) => svc.serverStream(req, prepare(hctx, recorder)),
    clientStream: (reqs, hctx) => svc.clientStream(reqs, prepare(hctx, recorder)),
    bidi: (reqs, hctx) => svc.bidi(reqs, prepare(hctx, recorder)),
    fail: (req, hctx) => {
      prepare(hctx, recorder);
      return svc.fail(req);
    },
    inspect: (req, hctx) => svc.inspect(req, prepare(hctx, recorder)),
  };
}

function demoImpl(recorder: Recorder): ServiceImpl<typeof DemoService> {
  return {
    sayHello: (req, hctx) => {
      prepare(hctx, recorder);
      return svc.sayHello(req);
    },
    tick: (req, hctx) => svc.tick(req, prepare(hctx, recorder)),
    chat: (reqs, hctx) => {
      prepare(hctx, recorder);
      return svc.chat(reqs);
    },
  };
}

/** The connect-node request handler serving both services (Connect, gRPC and gRPC-Web). */
export function createConnectHandler(
  recorder: Recorder,
  options: { maxMessageBytes?: number } = {},
): ReturnType<typeof connectNodeAdapter> {
  return connectNodeAdapter({
    readMaxBytes: options.maxMessageBytes ?? defaultMaxMessageBytes,
    routes: connectRoutes(recorder),
  });
}

/** TestService and DemoService as connect-node routes (for `connectNodeAdapter` or an in-process tunnel endpoint). */
export function connectRoutes(recorder: Recorder): (router: ConnectRouter) => void {
  return (router) => {
    router.service(TestService, testImpl(recorder));
    router.service(DemoService, demoImpl(recorder));
  };
}

/**
 * Starts the Connect backend on HTTP/2: cleartext h2c by default (so gRPC works), or TLS
 * with HTTP/1.1 fallback when `tls` is given. 127.0.0.1 and a free port by default.
 */
export async function startConnectBackend(options: ConnectBackendOptions = {}): Promise<Backend> {
  const recorder = options.recorder ?? new Recorder();
  const handler = createConnectHandler(recorder, options);
  const server = options.tls
    ? http2.createSecureServer({ key: options.tls.key, cert: options.tls.cert, allowHTTP1: true }, handler)
    : http2.createServer(handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  const sockets = new Set<Socket>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  // HTTP/1.1 connections of the TLS server do not make sessions.
  server.on("secureConnection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  const close = (): Promise<void> =>
    closeServer(
      server,
      () => {
        for (const session of sessions) session.close();
      },
      () => {
        for (const session of sessions) session.destroy();
        for (const socket of sockets) socket.destroy();
      },
    );
  return listen(server, options, options.tls ? "https" : "http", recorder, close);
}

/**
 * Starts the Connect backend on plain HTTP/1.1 with CORS open to any origin, for pages
 * and benchmarks that call it directly (Connect and gRPC-Web only: gRPC needs HTTP/2).
 */
export async function startConnectBackendHttp1(options: ConnectBackendHttp1Options = {}): Promise<Backend> {
  const recorder = options.recorder ?? new Recorder();
  const handler = createConnectHandler(recorder, options);
  const server = http.createServer((req, res) => {
    if (applyCors(req, res)) return;
    handler(req, res);
  });
  const close = (): Promise<void> =>
    closeServer(
      server,
      () => server.closeIdleConnections(),
      () => server.closeAllConnections(),
    );
  return listen(server, options, "http", recorder, close);
}

async function listen(
  server: http.Server | http2.Http2Server | http2.Http2SecureServer,
  options: ListenOptions,
  scheme: "http" | "https",
  recorder: Recorder,
  close: () => Promise<void>,
): Promise<Backend> {
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void =>
      reject(new Error(`connect backend: cannot listen on ${host}:${options.port ?? 0}: ${err.message}`));
    server.once("error", onError);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("connect backend: not a TCP listener");
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return { url: `${scheme}://${urlHost}:${address.port}`, host, port: address.port, recorder, close };
}

/** server.close(), ask open connections to finish, and cut them after closeGraceMs. */
function closeServer(server: { close(cb: (err?: Error) => void): unknown }, graceful: () => void, force: () => void): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(force, closeGraceMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    graceful();
  });
}
