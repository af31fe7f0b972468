import { readFileSync } from "node:fs";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { createGrpcWebAdapter } from "../../server/adapters/grpc-web.js";
import { createTranscoder } from "../../server/adapters/transcode.js";
import { UpstreamError } from "../../server/exchange.js";
import { UnaryRequestSchema, UnaryResponseSchema } from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { collect, dec, enc, env, envelopes, fakeUpstream, header, request } from "./support.js";

const ctx = { maxMessageBytes: 1 << 20 };
const adapter = createGrpcWebAdapter(ctx);
const okTrailers: [string, string][] = [
  ["grpc-status", "0"],
  ["x-t", "v"],
];

describe("gRPC-Web adapter (unit)", () => {
  it("matches gRPC-Web content types only, and only for a gRPC upstream", () => {
    const m = (type: string, up: "grpc" | "connect" = "grpc") => adapter.matches(request({ headers: [["content-type", type]] }), up);
    expect(m("application/grpc-web")).toBe(true);
    expect(m("application/grpc-web+proto")).toBe(true);
    expect(m("application/grpc-web+json")).toBe(true);
    expect(m("application/grpc-web-text")).toBe(true);
    expect(m("application/grpc-web-text+proto")).toBe(true);
    expect(m("application/grpc-web+thrift")).toBe(false);
    expect(m("application/grpc")).toBe(false);
    expect(m("application/grpc-web", "connect")).toBe(false);
  });

  it("rewrites the request head and appends trailers as a 0x80 frame", async () => {
    const { upstream, seen } = fakeUpstream(() => ({
      headers: [
        ["content-type", "application/grpc+proto"],
        ["x-h", "1"],
        ["content-length", "99"],
      ],
      body: [env(0, "ab"), env(0, "cd")],
      trailers: [
        ["grpc-status", "0"],
        ["x-T", "v"],
      ],
    }));
    const res = await adapter.handle(
      request({
        headers: [
          ["content-type", "application/grpc-web+proto"],
          ["x-grpc-web", "1"],
          ["grpc-timeout", "5S"],
          ["x-user-agent", "ua"],
        ],
        body: [env(0, "req")],
      }),
      upstream,
    );
    expect(seen[0]!.headers).toEqual([
      ["grpc-timeout", "5S"],
      ["x-user-agent", "ua"],
      ["te", "trailers"],
      ["content-type", "application/grpc+proto"],
    ]);
    expect(seen[0]!.body).toEqual(env(0, "req"));
    expect(res.status).toBe(200);
    expect(header(res.headers, "content-type")).toBe("application/grpc-web+proto");
    expect(header(res.headers, "content-length")).toBeUndefined();
    expect(header(res.headers, "x-h")).toBe("1");
    const frames = envelopes(await collect(res.body));
    expect(frames.map((f) => f.flags)).toEqual([0, 0, 0x80]);
    expect(dec.decode(frames[2]!.data)).toBe("grpc-status: 0\r\nx-t: v\r\n");
  });

  it("maps application/grpc-web to application/grpc", async () => {
    const { upstream, seen } = fakeUpstream(() => ({ trailers: okTrailers }));
    await collect((await adapter.handle(request({ headers: [["content-type", "application/grpc-web"]] }), upstream)).body);
    expect(header(seen[0]!.headers, "content-type")).toBe("application/grpc");
  });

  it("carries error status, message and details in the trailer frame", async () => {
    const details = Buffer.from("status-proto").toString("base64");
    const { upstream } = fakeUpstream(() => ({
      body: [],
      trailers: [
        ["grpc-status", "5"],
        ["grpc-message", "not%20found"],
        ["grpc-status-details-bin", details],
      ],
    }));
    const res = await adapter.handle(request({ headers: [["content-type", "application/grpc-web+proto"]] }), upstream);
    const frames = envelopes(await collect(res.body));
    expect(frames).toHaveLength(1);
    expect(dec.decode(frames[0]!.data)).toBe(`grpc-message: not%20found\r\ngrpc-status: 5\r\ngrpc-status-details-bin: ${details}\r\n`);
  });

  it("keeps a trailers-only answer in the head with an empty body", async () => {
    const { upstream } = fakeUpstream(() => ({
      headers: [
        ["content-type", "application/grpc"],
        ["grpc-status", "7"],
        ["grpc-message", "denied"],
      ],
    }));
    const res = await adapter.handle(request({ headers: [["content-type", "application/grpc-web+proto"]] }), upstream);
    expect(res.status).toBe(200);
    expect(header(res.headers, "grpc-status")).toBe("7");
    expect(header(res.headers, "grpc-message")).toBe("denied");
    expect(header(res.headers, "content-type")).toBe("application/grpc-web+proto");
    expect((await collect(res.body)).length).toBe(0);
  });

  it("answers an upstream failure before the head as trailers-only status 14", async () => {
    const res = await adapter.handle(request({ headers: [["content-type", "application/grpc-web+proto"]] }), async () => {
      throw new UpstreamError("unavailable", "connection refused");
    });
    expect(res.status).toBe(200);
    expect(header(res.headers, "grpc-status")).toBe("14");
    expect(decodeURIComponent(header(res.headers, "grpc-message")!)).toBe("connection refused");
  });

  it("turns a body cut short into a trailer frame with the upstream's code", async () => {
    const { upstream } = fakeUpstream(() => ({ body: [env(0, "x")], bodyError: new UpstreamError("unavailable", "stream reset") }));
    const res = await adapter.handle(request({ headers: [["content-type", "application/grpc-web"]] }), upstream);
    const frames = envelopes(await collect(res.body));
    expect(frames.map((f) => f.flags)).toEqual([0, 0x80]);
    expect(dec.decode(frames[1]!.data)).toContain("grpc-status: 14\r\n");
  });

  it("adds grpc-status when the upstream ends without one", async () => {
    const { upstream } = fakeUpstream(() => ({ body: [], trailers: [] }));
    const res = await adapter.handle(request({ headers: [["content-type", "application/grpc-web"]] }), upstream);
    const frames = envelopes(await collect(res.body));
    expect(dec.decode(frames[0]!.data)).toContain("grpc-status: 13\r\n");
  });

  it("answers a non-200 upstream as trailers-only with the code for the HTTP status", async () => {
    const { upstream } = fakeUpstream(() => ({ status: 503, headers: [["content-type", "text/plain"]] }));
    const res = await adapter.handle(request({ headers: [["content-type", "application/grpc-web"]] }), upstream);
    expect(header(res.headers, "grpc-status")).toBe("14");
  });

  describe("text mode", () => {
    const body = Buffer.concat([env(0, "hello"), env(1, "compressed?")]);
    const b64 = body.toString("base64");

    for (const cut of [1, 2, 3, 5, 7]) {
      it(`decodes a base64 request body cut every ${cut} characters`, async () => {
        const parts: Uint8Array[] = [];
        for (let i = 0; i < b64.length; i += cut) parts.push(enc.encode(b64.slice(i, i + cut)));
        const { upstream, seen } = fakeUpstream(() => ({ trailers: okTrailers }));
        await collect(
          (await adapter.handle(request({ headers: [["content-type", "application/grpc-web-text"]], body: parts }), upstream)).body,
        );
        expect(Buffer.from(seen[0]!.body)).toEqual(body);
        expect(header(seen[0]!.headers, "content-type")).toBe("application/grpc");
      });
    }

    it("decodes concatenated padded segments (one per message)", async () => {
      const a = Buffer.from(env(0, "a")).toString("base64"); // 6 bytes -> "AAAAAAFh" no padding
      const b = Buffer.from(env(0, "bc")).toString("base64"); // 7 bytes -> padded
      const c = Buffer.from(env(0, "def")).toString("base64");
      expect(b.endsWith("=")).toBe(true);
      const text = b + c + a;
      const { upstream, seen } = fakeUpstream(() => ({ trailers: okTrailers }));
      const parts = [text.slice(0, 9), text.slice(9, 14), text.slice(14)].map((s) => enc.encode(s));
      await collect(
        (await adapter.handle(request({ headers: [["content-type", "application/grpc-web-text+proto"]], body: parts }), upstream)).body,
      );
      expect(Buffer.from(seen[0]!.body)).toEqual(Buffer.concat([env(0, "bc"), env(0, "def"), env(0, "a")]));
      expect(header(seen[0]!.headers, "content-type")).toBe("application/grpc+proto");
    });

    it("answers bad base64 with invalid_argument in the trailer", async () => {
      const { upstream } = fakeUpstream(() => ({ trailers: okTrailers }));
      const res = await adapter.handle(
        request({ headers: [["content-type", "application/grpc-web-text"]], body: [enc.encode("AAA*")] }),
        upstream,
      );
      expect(header(res.headers, "grpc-status")).toBe("3");
    });

    it("base64-encodes the response, trailer frame included", async () => {
      const { upstream } = fakeUpstream(() => ({ body: [env(0, "xy"), env(0, "z")], trailers: okTrailers }));
      const res = await adapter.handle(request({ headers: [["content-type", "application/grpc-web-text"]] }), upstream);
      expect(header(res.headers, "content-type")).toBe("application/grpc-web-text");
      const chunksOut: string[] = [];
      for await (const c of res.body) chunksOut.push(dec.decode(c));
      // Each chunk is a padded base64 string on its own.
      const decoded = Buffer.concat(chunksOut.map((s) => Buffer.from(s, "base64")));
      const frames = envelopes(decoded);
      expect(frames.map((f) => f.flags)).toEqual([0, 0, 0x80]);
      expect(dec.decode(frames[1]!.data)).toBe("z");
      expect(chunksOut.every((s) => s.length % 4 === 0)).toBe(true);
    });
  });

  describe("JSON", () => {
    const descriptors = readFileSync(new URL("../../demo/gen/descriptors.binpb", import.meta.url));

    it("without descriptors fails with failed_precondition naming --descriptors", async () => {
      const { upstream, seen } = fakeUpstream(() => ({}));
      const res = await adapter.handle(
        request({ headers: [["content-type", "application/grpc-web+json"]], body: [env(0, "{}")] }),
        upstream,
      );
      expect(seen).toHaveLength(0);
      expect(header(res.headers, "grpc-status")).toBe("9");
      expect(decodeURIComponent(header(res.headers, "grpc-message")!)).toContain("--descriptors FILE");
    });

    it("with descriptors transcodes JSON to binary and back", async () => {
      const json = createGrpcWebAdapter({ ...ctx, transcoder: createTranscoder(descriptors) });
      const { upstream, seen } = fakeUpstream(() => ({
        body: [env(0, toBinary(UnaryResponseSchema, create(UnaryResponseSchema, { text: "back", timeoutMs: 5n })))],
        trailers: okTrailers,
      }));
      const res = await json.handle(
        request({
          headers: [
            ["content-type", "application/grpc-web+json"],
            ["grpc-encoding", "identity"],
          ],
          body: [env(0, '{"text":"hi","responseSize":3}')],
        }),
        upstream,
      );
      expect(header(seen[0]!.headers, "content-type")).toBe("application/grpc+proto");
      expect(header(seen[0]!.headers, "grpc-accept-encoding")).toBe("identity");
      const sent = envelopes(seen[0]!.body);
      expect(fromBinary(UnaryRequestSchema, sent[0]!.data)).toMatchObject({ text: "hi", responseSize: 3 });
      expect(header(res.headers, "content-type")).toBe("application/grpc-web+json");
      const frames = envelopes(await collect(res.body));
      expect(JSON.parse(dec.decode(frames[0]!.data))).toEqual({ text: "back", timeoutMs: "5" });
    });

    it("with descriptors answers an unknown method with unimplemented", async () => {
      const json = createGrpcWebAdapter({ ...ctx, transcoder: createTranscoder(descriptors) });
      const { upstream } = fakeUpstream(() => ({}));
      const res = await json.handle(
        request({ path: "/no.Such/Method", headers: [["content-type", "application/grpc-web+json"]] }),
        upstream,
      );
      expect(header(res.headers, "grpc-status")).toBe("12");
    });
  });
});
