import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { createConnectStreamAdapter } from "../../server/adapters/connect-stream.js";
import { createConnectUnaryAdapter } from "../../server/adapters/connect-unary.js";
import { createTranscoder } from "../../server/adapters/transcode.js";
import { UpstreamError } from "../../server/exchange.js";
import { StatusSchema } from "../../demo/gen/google/rpc/status_pb.js";
import { UnaryRequestSchema, UnaryResponseSchema } from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { collect, dec, descriptorsWithNoSideEffects, enc, env, envelopes, fakeUpstream, header, request } from "./support.js";

const ctx = { maxMessageBytes: 1 << 20 };
const descriptors = readFileSync(new URL("../../demo/gen/descriptors.binpb", import.meta.url));
const jsonCtx = { ...ctx, transcoder: createTranscoder(descriptors) };
const unary = createConnectUnaryAdapter(ctx);
/** Descriptors where TestService/Unary is marked NO_SIDE_EFFECTS, so Connect GET may run it. */
const safeCtx = {
  ...ctx,
  transcoder: createTranscoder(descriptorsWithNoSideEffects(descriptors, ["swtunnel.test.v1.TestService/Unary"])),
};
const safeUnary = createConnectUnaryAdapter(safeCtx);
const stream = createConnectStreamAdapter(ctx);
const ok: [string, string][] = [["grpc-status", "0"]];
const statusBin = Buffer.from(
  toBinary(
    StatusSchema,
    create(StatusSchema, {
      code: 5,
      message: "gone",
      details: [{ typeUrl: "type.googleapis.com/x.Detail", value: new Uint8Array([10, 1, 122]) }],
    }),
  ),
).toString("base64");

async function json(res: { body: AsyncIterable<Uint8Array> }): Promise<unknown> {
  return JSON.parse(dec.decode(await collect(res.body)));
}

describe("Connect unary adapter (unit)", () => {
  it("matches Connect unary POST and GET for a gRPC upstream", () => {
    const m = (method: string, type: string | undefined, path = "/a.B/C") =>
      unary.matches(request({ method, path, headers: type ? [["content-type", type]] : [] }), "grpc");
    expect(m("POST", "application/proto")).toBe(true);
    expect(m("POST", "application/json")).toBe(true);
    expect(m("POST", "application/json; charset=utf-8")).toBe(true);
    expect(m("POST", "application/connect+proto")).toBe(false);
    expect(m("GET", undefined, "/a.B/C?connect=v1&encoding=proto&message=AA&base64=1")).toBe(true);
    expect(m("GET", undefined, "/a.B/C")).toBe(false);
    expect(unary.matches(request({ headers: [["content-type", "application/proto"]] }), "connect")).toBe(false);
  });

  it("turns a POST into one gRPC envelope with gRPC headers", async () => {
    const { upstream, seen } = fakeUpstream(() => ({
      headers: [
        ["content-type", "application/grpc+proto"],
        ["x-h", "1"],
        ["grpc-accept-encoding", "gzip"],
      ],
      body: [env(0, "resp")],
      trailers: [...ok, ["x-tr", "t"]],
    }));
    const res = await unary.handle(
      request({
        headers: [
          ["content-type", "application/proto"],
          ["connect-protocol-version", "1"],
          ["connect-timeout-ms", "1500"],
          ["accept-encoding", "gzip"],
          ["content-length", "3"],
          ["x-app", "a"],
        ],
        body: [enc.encode("r"), enc.encode("eq")],
      }),
      upstream,
    );
    expect(seen[0]!.method).toBe("POST");
    expect(seen[0]!.headers).toEqual([
      ["x-app", "a"],
      ["content-type", "application/grpc+proto"],
      ["te", "trailers"],
      ["grpc-timeout", "1500m"],
      ["grpc-accept-encoding", "gzip"],
    ]);
    expect(seen[0]!.body).toEqual(env(0, "req"));
    expect(res.status).toBe(200);
    expect(dec.decode(await collect(res.body))).toBe("resp");
    expect(header(res.headers, "content-type")).toBe("application/proto");
    expect(header(res.headers, "x-h")).toBe("1");
    expect(header(res.headers, "trailer-x-tr")).toBe("t");
    expect(header(res.headers, "accept-encoding")).toBe("gzip");
    expect(header(res.headers, "grpc-accept-encoding")).toBeUndefined();
  });

  it("passes compressed messages through with their encoding both ways", async () => {
    const zipped = gzipSync("req");
    const { upstream, seen } = fakeUpstream(() => ({
      headers: [
        ["content-type", "application/grpc"],
        ["grpc-encoding", "gzip"],
      ],
      body: [env(1, gzipSync("resp"))],
      trailers: ok,
    }));
    const res = await unary.handle(
      request({
        headers: [
          ["content-type", "application/proto"],
          ["content-encoding", "gzip"],
        ],
        body: [zipped],
      }),
      upstream,
    );
    expect(header(seen[0]!.headers, "grpc-encoding")).toBe("gzip");
    expect(envelopes(seen[0]!.body)[0]!.flags).toBe(1);
    expect(header(res.headers, "content-encoding")).toBe("gzip");
    expect(header(res.headers, "grpc-encoding")).toBeUndefined();
  });

  it("reads GET requests (base64url message, compression)", async () => {
    const msg = Buffer.from([0xfb, 0xff, 0x00, 0x01]);
    const { upstream, seen } = fakeUpstream(() => ({ body: [env(0, "r")], trailers: ok }));
    const path = `/swtunnel.test.v1.TestService/Unary?connect=v1&encoding=proto&base64=1&compression=identity&message=${msg.toString("base64url")}`;
    const res = await safeUnary.handle(request({ method: "GET", path, headers: [["connect-timeout-ms", "10"]] }), upstream);
    expect(res.status).toBe(200);
    expect(seen[0]!.method).toBe("POST");
    expect(seen[0]!.path).toBe("/swtunnel.test.v1.TestService/Unary");
    expect(envelopes(seen[0]!.body)[0]!.data).toEqual(new Uint8Array(msg));
    expect(header(seen[0]!.headers, "grpc-timeout")).toBe("10m");
    expect(header(seen[0]!.headers, "grpc-encoding")).toBeUndefined();
  });

  it("refuses GET with 405 (Allow: POST, a Connect error) unless the descriptors mark the method NO_SIDE_EFFECTS", async () => {
    const { upstream, seen } = fakeUpstream(() => ({ body: [env(0, "r")], trailers: ok }));
    const get = (method: string) =>
      request({ method: "GET", path: `/swtunnel.test.v1.TestService/${method}?connect=v1&encoding=proto&message=`, headers: [] });
    const cases: Array<[ReturnType<typeof createConnectUnaryAdapter>, string, RegExp]> = [
      [unary, "Unary", /needs descriptors .*--descriptors FILE/], // no descriptors: no GET at all
      [createConnectUnaryAdapter(jsonCtx), "Unary", /Unary is not marked idempotency_level = NO_SIDE_EFFECTS; call it with POST/],
      [safeUnary, "Fail", /Fail is not marked idempotency_level = NO_SIDE_EFFECTS/],
      [safeUnary, "Nope", /Nope is not a method in the gateway's descriptors/],
    ];
    for (const [adapter, method, message] of cases) {
      const res = await adapter.handle(get(method), upstream);
      expect(res.status, method).toBe(405);
      expect(header(res.headers, "allow")).toBe("POST");
      expect(header(res.headers, "content-type")).toBe("application/json");
      const body = JSON.parse(dec.decode(await collect(res.body))) as { code: string; message: string };
      expect(body.code).toBe("unimplemented");
      expect(body.message).toMatch(message);
    }
    expect(seen).toHaveLength(0); // nothing reached the backend
    // POST still runs every method.
    const post = await unary.handle(request({ headers: [["content-type", "application/proto"]], body: [new Uint8Array()] }), upstream);
    expect(post.status).toBe(200);
  });

  it("reads GET requests with a percent-encoded JSON message", async () => {
    const u = safeUnary;
    const { upstream, seen } = fakeUpstream(() => ({
      body: [env(0, toBinary(UnaryResponseSchema, create(UnaryResponseSchema, { text: "ö" })))],
      trailers: ok,
    }));
    const path = `/swtunnel.test.v1.TestService/Unary?encoding=json&connect=v1&message=${encodeURIComponent('{"text":"a+b ö"}')}`;
    const res = await u.handle(request({ method: "GET", path, headers: [] }), upstream);
    expect(fromBinary(UnaryRequestSchema, envelopes(seen[0]!.body)[0]!.data).text).toBe("a+b ö");
    expect(header(res.headers, "content-type")).toBe("application/json");
    expect(await json(res)).toEqual({ text: "ö" });
  });

  it("answers a gRPC error as the Connect error JSON with details and the mapped HTTP status", async () => {
    const { upstream } = fakeUpstream(() => ({
      headers: [
        ["content-type", "application/grpc"],
        ["x-h", "1"],
      ],
      body: [],
      trailers: [
        ["grpc-status", "5"],
        ["grpc-message", "gone%20away"],
        ["grpc-status-details-bin", statusBin],
        ["x-tr", "t"],
      ],
    }));
    const res = await unary.handle(request({ headers: [["content-type", "application/proto"]] }), upstream);
    expect(res.status).toBe(404);
    expect(header(res.headers, "content-type")).toBe("application/json");
    expect(header(res.headers, "x-h")).toBe("1");
    expect(header(res.headers, "trailer-x-tr")).toBe("t");
    expect(await json(res)).toEqual({
      code: "not_found",
      message: "gone",
      details: [{ type: "x.Detail", value: "CgF6" }],
    });
  });

  it("percent-decodes grpc-message when there are no details", async () => {
    const { upstream } = fakeUpstream(() => ({
      headers: [
        ["content-type", "application/grpc"],
        ["grpc-status", "16"],
        ["grpc-message", "who%3F%20you"],
        ["x-m", "m"],
      ],
    }));
    const res = await unary.handle(request({ headers: [["content-type", "application/proto"]] }), upstream);
    expect(res.status).toBe(401);
    expect(header(res.headers, "trailer-x-m")).toBe("m");
    expect(await json(res)).toEqual({ code: "unauthenticated", message: "who? you" });
  });

  it("answers an upstream failure before the head with 503 unavailable", async () => {
    const res = await unary.handle(request({ headers: [["content-type", "application/proto"]] }), async () => {
      throw new UpstreamError("unavailable", "no route");
    });
    expect(res.status).toBe(503);
    expect(await json(res)).toEqual({ code: "unavailable", message: "no route" });
  });

  it("rejects a bad connect-timeout-ms with invalid_argument", async () => {
    const { upstream, seen } = fakeUpstream(() => ({}));
    const res = await unary.handle(
      request({
        headers: [
          ["content-type", "application/proto"],
          ["connect-timeout-ms", "soon"],
        ],
      }),
      upstream,
    );
    expect(seen).toHaveLength(0);
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ code: "invalid_argument" });
  });

  it("rejects a body over the message limit with resource_exhausted", async () => {
    const small = createConnectUnaryAdapter({ maxMessageBytes: 4 });
    const { upstream } = fakeUpstream(() => ({}));
    const res = await small.handle(request({ headers: [["content-type", "application/proto"]], body: [enc.encode("12345")] }), upstream);
    expect(res.status).toBe(429);
  });

  it("JSON without descriptors fails with failed_precondition naming --descriptors", async () => {
    const { upstream, seen } = fakeUpstream(() => ({}));
    const res = await unary.handle(request({ headers: [["content-type", "application/json"]], body: [enc.encode("{}")] }), upstream);
    expect(seen).toHaveLength(0);
    expect(res.status).toBe(400);
    const body = (await json(res)) as { code: string; message: string };
    expect(body.code).toBe("failed_precondition");
    expect(body.message).toBe(
      "JSON to a gRPC upstream needs descriptors: pass --descriptors FILE (a binary FileDescriptorSet from `buf build -o`) or use the binary (proto) codec",
    );
  });

  it("JSON with descriptors transcodes both ways, gzip request included", async () => {
    const u = createConnectUnaryAdapter(jsonCtx);
    const { upstream, seen } = fakeUpstream(() => ({
      body: [env(0, toBinary(UnaryResponseSchema, create(UnaryResponseSchema, { text: "x", payload: new Uint8Array([1, 2]) })))],
      trailers: ok,
    }));
    const res = await u.handle(
      request({
        path: "/swtunnel.test.v1.TestService/Unary",
        headers: [
          ["content-type", "application/json"],
          ["content-encoding", "gzip"],
          ["accept-encoding", "gzip"],
        ],
        body: [gzipSync('{"text":"hi","delayMs":2}')],
      }),
      upstream,
    );
    expect(header(seen[0]!.headers, "grpc-encoding")).toBeUndefined();
    expect(header(seen[0]!.headers, "grpc-accept-encoding")).toBe("identity");
    expect(fromBinary(UnaryRequestSchema, envelopes(seen[0]!.body)[0]!.data)).toMatchObject({ text: "hi", delayMs: 2 });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ text: "x", payload: "AQI=" });
  });

  it("JSON with descriptors: bad JSON is invalid_argument, unknown method unimplemented", async () => {
    const u = createConnectUnaryAdapter(jsonCtx);
    const { upstream } = fakeUpstream(() => ({}));
    const bad = await u.handle(
      request({
        path: "/swtunnel.test.v1.TestService/Unary",
        headers: [["content-type", "application/json"]],
        body: [enc.encode('{"nope":1}')],
      }),
      upstream,
    );
    expect(bad.status).toBe(400);
    expect(await json(bad)).toMatchObject({ code: "invalid_argument" });
    const unknown = await u.handle(
      request({ path: "/swtunnel.test.v1.TestService/Nope", headers: [["content-type", "application/json"]] }),
      upstream,
    );
    expect(unknown.status).toBe(501);
    expect(await json(unknown)).toMatchObject({ code: "unimplemented" });
  });

  it("treats zero or two response messages as an error", async () => {
    for (const body of [[], [env(0, "a"), env(0, "b")]]) {
      const { upstream } = fakeUpstream(() => ({ body, trailers: ok }));
      const res = await unary.handle(request({ headers: [["content-type", "application/proto"]] }), upstream);
      expect(res.status).toBe(501);
    }
  });
});

describe("Connect streaming adapter (unit)", () => {
  const endStream = async (res: { body: AsyncIterable<Uint8Array> }) => {
    const frames = envelopes(await collect(res.body));
    const last = frames.at(-1)!;
    expect(last.flags).toBe(2);
    return { frames, end: JSON.parse(dec.decode(last.data)) as unknown };
  };

  it("matches application/connect+proto and +json for a gRPC upstream", () => {
    const m = (type: string) => stream.matches(request({ headers: [["content-type", type]] }), "grpc");
    expect(m("application/connect+proto")).toBe(true);
    expect(m("application/connect+json")).toBe(true);
    expect(m("application/connect+thrift")).toBe(false);
    expect(m("application/proto")).toBe(false);
  });

  it("passes envelopes through and turns trailers into the end-stream message", async () => {
    const { upstream, seen } = fakeUpstream(() => ({
      headers: [
        ["content-type", "application/grpc+proto"],
        ["grpc-encoding", "gzip"],
        ["grpc-accept-encoding", "gzip,br"],
        ["x-h", "1"],
      ],
      body: [env(0, "a"), env(1, "zz")],
      trailers: [...ok, ["x-t", "1"], ["x-t2-bin", "AAE="]],
    }));
    const res = await stream.handle(
      request({
        headers: [
          ["content-type", "application/connect+proto"],
          ["connect-protocol-version", "1"],
          ["connect-timeout-ms", "1234567890"],
          ["connect-content-encoding", "gzip"],
          ["connect-accept-encoding", "gzip"],
        ],
        body: [env(1, "q1"), env(0, "q2")],
      }),
      upstream,
    );
    expect(seen[0]!.headers).toEqual([
      ["content-type", "application/grpc+proto"],
      ["te", "trailers"],
      ["grpc-timeout", "1234568S"],
      ["grpc-encoding", "gzip"],
      ["grpc-accept-encoding", "gzip"],
    ]);
    expect(Buffer.from(seen[0]!.body)).toEqual(Buffer.concat([env(1, "q1"), env(0, "q2")]));
    expect(res.status).toBe(200);
    expect(res.headers).toEqual([
      ["x-h", "1"],
      ["content-type", "application/connect+proto"],
      ["connect-content-encoding", "gzip"],
      ["connect-accept-encoding", "gzip,br"],
    ]);
    const { frames, end } = await endStream(res);
    expect(frames.map((f) => f.flags)).toEqual([0, 1, 2]);
    expect(end).toEqual({ metadata: { "x-t": ["1"], "x-t2-bin": ["AAE="] } });
  });

  it("puts error code, message and details in the end-stream", async () => {
    const { upstream } = fakeUpstream(() => ({
      body: [env(0, "a")],
      trailers: [
        ["grpc-status", "5"],
        ["grpc-message", "gone"],
        ["grpc-status-details-bin", statusBin],
        ["x-t", "1"],
      ],
    }));
    const res = await stream.handle(request({ headers: [["content-type", "application/connect+proto"]] }), upstream);
    const { end } = await endStream(res);
    expect(end).toEqual({
      error: { code: "not_found", message: "gone", details: [{ type: "x.Detail", value: "CgF6" }] },
      metadata: { "x-t": ["1"] },
    });
  });

  it("answers trailers-only with a lone end-stream", async () => {
    const { upstream } = fakeUpstream(() => ({
      headers: [
        ["content-type", "application/grpc"],
        ["grpc-status", "8"],
        ["grpc-message", "slow%20down"],
        ["x-m", "m"],
      ],
    }));
    const res = await stream.handle(request({ headers: [["content-type", "application/connect+proto"]] }), upstream);
    expect(res.status).toBe(200);
    expect(header(res.headers, "content-type")).toBe("application/connect+proto");
    const { frames, end } = await endStream(res);
    expect(frames).toHaveLength(1);
    expect(end).toEqual({ error: { code: "resource_exhausted", message: "slow down" }, metadata: { "x-m": ["m"] } });
  });

  it("answers an upstream failure before the head with 200 and an end-stream error", async () => {
    const res = await stream.handle(request({ headers: [["content-type", "application/connect+proto"]] }), async () => {
      throw new UpstreamError("deadline_exceeded", "too slow");
    });
    expect(res.status).toBe(200);
    const { end } = await endStream(res);
    expect(end).toEqual({ error: { code: "deadline_exceeded", message: "too slow" } });
  });

  it("ends a stream cut short with an end-stream carrying the failure", async () => {
    const { upstream } = fakeUpstream(() => ({ body: [env(0, "a")], bodyError: new UpstreamError("unavailable", "reset") }));
    const res = await stream.handle(request({ headers: [["content-type", "application/connect+proto"]] }), upstream);
    const { frames, end } = await endStream(res);
    expect(frames).toHaveLength(2);
    expect(end).toEqual({ error: { code: "unavailable", message: "reset" } });
  });

  it("JSON without descriptors fails with failed_precondition", async () => {
    const { upstream } = fakeUpstream(() => ({}));
    const res = await stream.handle(request({ headers: [["content-type", "application/connect+json"]] }), upstream);
    const { end } = await endStream(res);
    expect(end).toMatchObject({ error: { code: "failed_precondition" } });
    expect(JSON.stringify(end)).toContain("--descriptors FILE");
  });

  it("JSON with descriptors transcodes every message, compressed ones included", async () => {
    const s = createConnectStreamAdapter(jsonCtx);
    const { upstream, seen } = fakeUpstream(() => ({
      headers: [
        ["content-type", "application/grpc"],
        ["grpc-encoding", "gzip"],
      ],
      body: [env(1, gzipSync(toBinary(UnaryResponseSchema, create(UnaryResponseSchema, { text: "r1" })))), env(0, new Uint8Array())],
      trailers: ok,
    }));
    const res = await s.handle(
      request({
        path: "/swtunnel.test.v1.TestService/Unary",
        headers: [
          ["content-type", "application/connect+json"],
          ["connect-content-encoding", "gzip"],
        ],
        body: [env(1, gzipSync('{"text":"a"}')), env(0, '{"text":"b"}')],
      }),
      upstream,
    );
    const sent = envelopes(seen[0]!.body);
    expect(sent.map((e) => e.flags)).toEqual([0, 0]);
    expect(sent.map((e) => fromBinary(UnaryRequestSchema, e.data).text)).toEqual(["a", "b"]);
    expect(header(seen[0]!.headers, "grpc-encoding")).toBeUndefined();
    expect(header(res.headers, "connect-content-encoding")).toBeUndefined();
    const { frames } = await endStream(res);
    expect(frames.slice(0, 2).map((f) => JSON.parse(dec.decode(f.data)))).toEqual([{ text: "r1" }, {}]);
  });
});
