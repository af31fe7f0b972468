/**
 * The request log: the pure sampling rule and outcome decoding, then the real gateway
 * (Node tunnel client -> gateway -> @grpc/grpc-js demo backend) writing its per-call pino
 * lines into memory: every field a user reads (method, status, duration, bytes each way,
 * client address, trace id), sampling at rate 0 and 1, and failures logged at rate 0.
 */
import { Writable } from "node:stream";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { startGrpcBackend, type Backend } from "../../demo/backend/index.js";
import { TestService, UnaryRequestSchema } from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { createTransportOverTunnel, createTunnelClient, type TunnelClient } from "../../client/index.js";
import { createGateway, OptionsError, resolveOptions, type Gateway } from "../../server/index.js";
import { shouldLogCall } from "../../server/call-log.js";
import { parseOutcome } from "../../server/outcome.js";

describe("parseOutcome", () => {
  it("tells gRPC statuses, HTTP statuses and early ends apart", () => {
    expect(parseOutcome("0")).toEqual({ grpcStatus: 0, failed: false });
    expect(parseOutcome("14")).toEqual({ grpcStatus: 14, failed: true });
    expect(parseOutcome("200")).toEqual({ httpStatus: 200, failed: false });
    expect(parseOutcome("415")).toEqual({ httpStatus: 415, failed: true });
    expect(parseOutcome("MESSAGE_TOO_LARGE")).toEqual({ abort: "MESSAGE_TOO_LARGE", failed: true });
    expect(parseOutcome("client_CANCEL")).toEqual({ abort: "client_CANCEL", failed: true });
  });
});

describe("shouldLogCall", () => {
  const ok = parseOutcome("0");
  const failed = parseOutcome("13");
  it("always logs failures, whatever the rate", () => {
    expect(shouldLogCall(failed, 0, () => 0.99)).toBe(true);
  });
  it("samples successes with probability rate", () => {
    expect(shouldLogCall(ok, 0, () => 0)).toBe(false);
    expect(shouldLogCall(ok, 1, () => 0.999)).toBe(true);
    expect(shouldLogCall(ok, 0.25, () => 0.2)).toBe(true);
    expect(shouldLogCall(ok, 0.25, () => 0.3)).toBe(false);
  });
  it("rejects a rate outside 0..1 at start", () => {
    expect(() => resolveOptions({ upstream: "http://127.0.0.1:1", logSampleRate: 1.5 })).toThrow(OptionsError);
    expect(() => resolveOptions({ upstream: "http://127.0.0.1:1", logSampleRate: Number.NaN })).toThrow(/logSampleRate/);
    expect(resolveOptions({ upstream: "http://127.0.0.1:1" }).logSampleRate).toBe(0.01);
  });
});

interface Line {
  msg: string;
  level: number;
  [key: string]: unknown;
}

describe("per-call log lines from a real gateway", () => {
  let backend: Backend;
  const tunnels: TunnelClient[] = [];
  const gateways: Gateway[] = [];

  /** A gateway whose pino lines land in `lines`. */
  async function gatewayLogging(
    logSampleRate: number,
    protocol: "grpc" | "grpc-web" | "connect" = "grpc",
  ): Promise<{ client: Client<typeof TestService>; lines: Line[] }> {
    const lines: Line[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const text of chunk.toString("utf8").split("\n")) if (text) lines.push(JSON.parse(text) as Line);
        done();
      },
    });
    const gateway = await createGateway({ upstream: backend.url, port: 0, logSampleRate, logger: pino({ level: "info" }, sink) });
    gateways.push(gateway);
    const client = createTunnelClient({ url: gateway.tunnelUrl, WebSocket });
    tunnels.push(client);
    return { client: createClient(TestService, createTransportOverTunnel({ client, protocol })), lines };
  }

  beforeAll(async () => {
    backend = await startGrpcBackend();
  });
  afterAll(async () => {
    for (const t of tunnels) t.close();
    for (const g of gateways) await g.close(0);
    await backend?.close();
  });

  const calls = (lines: Line[]) => lines.filter((l) => l.msg === "call");

  it("rate 1: one line per call with method, status, duration, bytes in/out, client address and trace id", async () => {
    const { client, lines } = await gatewayLogging(1);
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    await client.unary({ text: "logged" }, { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } });
    const messages: number[] = [];
    for await (const m of client.serverStream({ count: 4, size: 1000 })) messages.push(m.index);
    expect(messages).toHaveLength(4);
    await expect.poll(() => calls(lines).length).toBe(2);
    const [unary, stream] = calls(lines);
    expect(unary).toMatchObject({
      level: 30,
      method: "/swtunnel.test.v1.TestService/Unary",
      status: "0",
      remote: "127.0.0.1",
      traceId,
      // The request's only DATA: a 5-byte gRPC envelope around the message.
      bytesIn: 5 + toBinary(UnaryRequestSchema, create(UnaryRequestSchema, { text: "logged" })).length,
    });
    expect(unary!.bytesOut).toBeGreaterThan(5);
    expect(unary!.durationMs).toBeGreaterThanOrEqual(0);
    expect(unary!.failed).toBeUndefined();
    expect(stream).toMatchObject({ method: "/swtunnel.test.v1.TestService/ServerStream", status: "0" });
    expect(stream!.bytesOut).toBeGreaterThanOrEqual(4 * 1000);
    expect(stream!.traceId).toBeUndefined();
  });

  it.each(["grpc-web", "connect", "grpc"] as const)(
    "%s: a stream that fails after its messages is logged with the gRPC status carried in the body",
    async (protocol) => {
      const { client, lines } = await gatewayLogging(0, protocol);
      const got: number[] = [];
      const err = await (async () => {
        for await (const m of client.serverStream({ count: 2, size: 10, failCode: Code.ResourceExhausted })) got.push(m.index);
      })().then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(got).toHaveLength(2);
      expect(err?.code).toBe(Code.ResourceExhausted);
      await expect.poll(() => calls(lines).length).toBe(1);
      expect(calls(lines)[0]).toMatchObject({
        method: "/swtunnel.test.v1.TestService/ServerStream",
        status: String(Code.ResourceExhausted),
        failed: true,
      });
    },
  );

  it("rate 0: successes are not logged, a failed call is, with its status", async () => {
    const { client, lines } = await gatewayLogging(0);
    for (let i = 0; i < 5; i++) await client.unary({ text: `quiet ${i}` });
    const err = await client.fail({ code: Code.PermissionDenied, message: "nope" }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.PermissionDenied);
    await expect.poll(() => calls(lines).length).toBe(1);
    expect(calls(lines)[0]).toMatchObject({
      method: "/swtunnel.test.v1.TestService/Fail",
      status: String(Code.PermissionDenied),
      failed: true,
    });
  });
});
