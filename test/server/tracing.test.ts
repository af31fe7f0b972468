/**
 * W3C trace context through the tunnel, end to end: the Node tunnel client -> the real
 * gateway -> a real @grpc/grpc-js backend that records the metadata it received.
 * Without an OpenTelemetry SDK the gateway forwards `traceparent` / `tracestate` as they
 * are; with the SDK's BasicTracerProvider (in-memory exporter) and the W3C propagator
 * registered, each call gets one SERVER span whose parent is the client's span, with the
 * method and the RPC status, and the backend sees the gateway's span as its parent.
 */
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { type Metadata, Server, ServerCredentials, status as grpcStatus, type ServerUnaryCall } from "@grpc/grpc-js";
import { propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { create } from "@bufbuild/protobuf";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { grpcServiceDefinition } from "../../demo/backend/index.js";
import { TestService, UnaryResponseSchema } from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { createTransportOverTunnel, createTunnelClient, type TunnelClient } from "../../client/index.js";
import { createGateway, type Gateway } from "../../server/index.js";

/** What the backend saw of one call's trace context. */
interface Seen {
  path: string;
  traceparent: string[];
  tracestate: string[];
}

const seen: Seen[] = [];
let backend: Server;
let gateway: Gateway;
let tunnel: TunnelClient;

function record(path: string, metadata: Metadata): void {
  seen.push({ path, traceparent: metadata.get("traceparent").map(String), tracestate: metadata.get("tracestate").map(String) });
}

beforeAll(async () => {
  backend = new Server();
  // Only the two methods used here; grpc-js answers the others UNIMPLEMENTED.
  backend.addService(grpcServiceDefinition(TestService), {
    unary(call: ServerUnaryCall<{ text: string }, unknown>, callback: (e: null, v: unknown) => void) {
      record("/swtunnel.test.v1.TestService/Unary", call.metadata);
      callback(null, create(UnaryResponseSchema, { text: call.request.text }));
    },
    fail(call: ServerUnaryCall<{ message: string }, unknown>, callback: (e: { code: number; details: string }) => void) {
      record("/swtunnel.test.v1.TestService/Fail", call.metadata);
      callback({ code: grpcStatus.NOT_FOUND, details: call.request.message });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    backend.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  gateway = await createGateway({ upstream: `http://127.0.0.1:${port}`, port: 0, logLevel: "silent" });
  tunnel = createTunnelClient({ url: gateway.tunnelUrl, WebSocket });
});

afterAll(async () => {
  tunnel?.close();
  await gateway?.close(0);
  await new Promise<void>((resolve) => backend.tryShutdown(() => resolve()));
});

afterEach(() => {
  seen.length = 0;
});

// A parent span the page would have made: version 00, trace id, parent id, sampled.
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID = "00f067aa0ba902b7";
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`;
const TRACESTATE = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";

const protocols = ["grpc", "connect", "grpc-web"] as const;

function clientFor(protocol: (typeof protocols)[number]): Client<typeof TestService> {
  return createClient(TestService, createTransportOverTunnel({ client: tunnel, protocol }));
}

describe("without an OpenTelemetry SDK", () => {
  it.each(protocols)("%s: traceparent and tracestate reach the grpc-js backend unchanged", async (protocol) => {
    const res = await clientFor(protocol).unary({ text: "traced" }, { headers: { traceparent: TRACEPARENT, tracestate: TRACESTATE } });
    expect(res.text).toBe("traced");
    expect(seen).toEqual([{ path: "/swtunnel.test.v1.TestService/Unary", traceparent: [TRACEPARENT], tracestate: [TRACESTATE] }]);
  });

  it("a call without traceparent gets none added", async () => {
    await clientFor("grpc").unary({ text: "untraced" });
    expect(seen).toEqual([{ path: "/swtunnel.test.v1.TestService/Unary", traceparent: [], tracestate: [] }]);
  });
});

describe("with the OpenTelemetry SDK registered", () => {
  const exporter = new InMemorySpanExporter();
  beforeAll(() => {
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  });
  afterAll(() => {
    trace.disable();
    propagation.disable();
  });
  afterEach(() => exporter.reset());

  it("one SERVER span per call: the client's span as parent, method and OK status; the backend's parent is the gateway span", async () => {
    const res = await clientFor("grpc").unary({ text: "span" }, { headers: { traceparent: TRACEPARENT, tracestate: TRACESTATE } });
    expect(res.text).toBe("span");
    await expect.poll(() => exporter.getFinishedSpans().length).toBe(1);
    const [span] = exporter.getFinishedSpans();
    expect(span!.name).toBe("swtunnel.test.v1.TestService/Unary");
    expect(span!.kind).toBe(SpanKind.SERVER);
    expect(span!.spanContext().traceId).toBe(TRACE_ID);
    expect(span!.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(span!.attributes).toMatchObject({
      "rpc.system": "grpc",
      "rpc.service": "swtunnel.test.v1.TestService",
      "rpc.method": "Unary",
      "rpc.grpc.status_code": 0,
      "client.address": "127.0.0.1",
      "swtunnel.outcome": "0",
    });
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
    // The backend sees the same trace, with the gateway's span as the parent, and the tracestate kept.
    expect(seen).toEqual([
      {
        path: "/swtunnel.test.v1.TestService/Unary",
        traceparent: [`00-${TRACE_ID}-${span!.spanContext().spanId}-01`],
        tracestate: [TRACESTATE],
      },
    ]);
    expect(span!.spanContext().spanId).not.toBe(PARENT_ID);
  });

  it("a failed call's span has the gRPC status and status ERROR", async () => {
    const err = await clientFor("grpc")
      .fail({ code: Code.NotFound, message: "no such thing" }, { headers: { traceparent: TRACEPARENT } })
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(err?.code).toBe(Code.NotFound);
    await expect.poll(() => exporter.getFinishedSpans().length).toBe(1);
    const [span] = exporter.getFinishedSpans();
    expect(span!.name).toBe("swtunnel.test.v1.TestService/Fail");
    expect(span!.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(span!.attributes["rpc.grpc.status_code"]).toBe(Code.NotFound);
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR, message: String(Code.NotFound) });
  });

  it("a call without traceparent starts a new trace, which the backend continues", async () => {
    await clientFor("connect").unary({ text: "root" });
    await expect.poll(() => exporter.getFinishedSpans().length).toBe(1);
    const [span] = exporter.getFinishedSpans();
    expect(span!.parentSpanContext).toBeUndefined();
    const { traceId, spanId } = span!.spanContext();
    expect(seen[0]!.traceparent).toEqual([`00-${traceId}-${spanId}-01`]);
  });
});
