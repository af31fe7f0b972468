import { describe, expect, it } from "vitest";
import { decodeGroups } from "../../server/adapters/base64.js";
import { parseConnectGet, percentDecode } from "../../server/adapters/connect-get.js";
import { createAdapters, createTranscoder } from "../../server/adapters/index.js";
import { connectTimeoutToGrpc } from "../../server/adapters/timeout.js";
import { UpstreamError, type ProxyRequest, type ProxyResponse, type UpstreamProtocol } from "../../server/exchange.js";
import { collect, dec, enc, env, envelopes, header, request } from "./support.js";

function pick(up: UpstreamProtocol, req: ProxyRequest, descriptors?: Uint8Array) {
  return createAdapters({ upstreamProtocol: up, descriptors }).find((a) => a.matches(req, up))?.name;
}

const post = (type: string) => request({ headers: [["content-type", type]] });

describe("createAdapters", () => {
  it("picks the adapter by content type for a gRPC upstream", () => {
    expect(pick("grpc", post("application/grpc"))).toBe("grpc");
    expect(pick("grpc", post("application/grpc+proto"))).toBe("grpc");
    expect(pick("grpc", post("application/grpc-web+proto"))).toBe("grpc-web");
    expect(pick("grpc", post("application/grpc-web-text"))).toBe("grpc-web");
    expect(pick("grpc", post("application/connect+json"))).toBe("connect-stream");
    expect(pick("grpc", post("application/proto"))).toBe("connect-unary");
    expect(pick("grpc", request({ method: "GET", path: "/a.B/C?connect=v1&encoding=json&message=%7B%7D", headers: [] }))).toBe(
      "connect-unary",
    );
  });

  it("matches nothing for what is not an RPC it can carry (the core answers 415)", () => {
    expect(pick("grpc", post("text/html"))).toBeUndefined();
    expect(pick("grpc", post("application/x-www-form-urlencoded"))).toBeUndefined();
    expect(pick("grpc", post("application/connect+thrift"))).toBeUndefined();
    expect(pick("grpc", request({ method: "GET", path: "/index.html", headers: [] }))).toBeUndefined();
    expect(pick("grpc", request({ method: "PUT", headers: [["content-type", "application/grpc"]] }))).toBeUndefined();
    expect(pick("connect", post("text/plain"))).toBeUndefined();
    expect(pick("connect", request({ method: "GET", path: "/", headers: [] }))).toBeUndefined();
  });

  it("passes every Connect, gRPC and gRPC-Web request to a Connect upstream", () => {
    for (const t of [
      "application/grpc",
      "application/grpc-web+json",
      "application/connect+proto",
      "application/json",
      "application/proto",
    ]) {
      expect(pick("connect", post(t))).toBe("connect-passthrough");
    }
    expect(pick("connect", request({ method: "GET", path: "/a.B/C?connect=v1&encoding=proto&message=AA&base64=1", headers: [] }))).toBe(
      "connect-passthrough",
    );
  });

  it("rejects descriptors that are not a FileDescriptorSet, saying how to build one", () => {
    expect(() => createAdapters({ upstreamProtocol: "grpc", descriptors: enc.encode("not protobuf at all") })).toThrow(/buf build -o/);
    expect(() => createTranscoder(new Uint8Array([0xff]))).toThrow(/FileDescriptorSet/);
  });

  it("answers an unreachable upstream in the client's protocol (passthroughs)", async () => {
    const fail = async (): Promise<ProxyResponse> => {
      throw new UpstreamError("unavailable", "down");
    };
    const [connectUp] = createAdapters({ upstreamProtocol: "connect" });
    const unary = await connectUp!.handle(post("application/proto"), fail);
    expect(unary.status).toBe(503);
    expect(JSON.parse(dec.decode(await collect(unary.body)))).toEqual({ code: "unavailable", message: "down" });
    const stream = await connectUp!.handle(post("application/connect+proto"), fail);
    expect(stream.status).toBe(200);
    const frames = envelopes(await collect(stream.body));
    expect(frames[0]!.flags).toBe(2);
    const web = await connectUp!.handle(post("application/grpc-web"), fail);
    expect(header(web.headers, "grpc-status")).toBe("14");
    const [grpc] = createAdapters({ upstreamProtocol: "grpc" });
    const g = await grpc!.handle(post("application/grpc"), fail);
    expect([g.status, header(g.headers, "grpc-status"), header(g.headers, "content-type")]).toEqual([200, "14", "application/grpc"]);
  });

  it("rethrows when the client itself aborted", async () => {
    const ac = new AbortController();
    ac.abort();
    const [grpc] = createAdapters({ upstreamProtocol: "grpc" });
    await expect(
      grpc!.handle(request({ headers: [["content-type", "application/grpc"]], signal: ac.signal }), async () => {
        throw new UpstreamError("canceled", "client went away");
      }),
    ).rejects.toThrow("client went away");
  });
});

describe("streaming, not buffering", () => {
  for (const type of ["application/grpc-web", "application/connect+proto"]) {
    it(`${type}: the first message goes out before the upstream's second arrives`, async () => {
      const adapter = createAdapters({ upstreamProtocol: "grpc" }).find((a) => a.matches(post(type), "grpc"))!;
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let secondSent = false;
      const res = await adapter.handle(post(type), async () => ({
        status: 200,
        headers: [["content-type", "application/grpc"]],
        body: (async function* () {
          yield env(0, "one");
          await gate;
          secondSent = true;
          yield env(0, "two");
        })(),
        trailers: () => [["grpc-status", "0"]],
      }));
      const it = res.body[Symbol.asyncIterator]();
      const first = await it.next();
      expect(envelopes(first.value as Uint8Array)[0]!.data).toEqual(enc.encode("one"));
      expect(secondSent).toBe(false);
      release();
      const rest: Uint8Array[] = [];
      for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value);
      expect(rest.length).toBe(2); // the second message, then the trailer / end-stream frame
    });
  }
});

describe("pure helpers", () => {
  it("connect-timeout-ms becomes grpc-timeout in ms, or whole seconds past 8 digits", () => {
    expect(connectTimeoutToGrpc("0")).toBe("0m");
    expect(connectTimeoutToGrpc("99999999")).toBe("99999999m");
    expect(connectTimeoutToGrpc("100000001")).toBe("100001S");
    expect(() => connectTimeoutToGrpc("12345678901")).toThrow(/1 to 10 digits/);
    expect(() => connectTimeoutToGrpc("-1")).toThrow();
  });

  it("base64 groups: keeps an incomplete group, flushes at padding", () => {
    const whole = decodeGroups("QUJD");
    expect([Buffer.from(whole.bytes).toString(), whole.rest]).toEqual(["ABC", ""]);
    const r = decodeGroups("QQ==QkM=RA");
    expect(Buffer.from(r.bytes).toString()).toBe("ABC");
    expect(r.rest).toBe("RA");
    expect(() => decodeGroups("QU!D")).toThrow(/not valid base64/);
  });

  it("parses Connect GET queries", () => {
    const g = parseConnectGet("/a.B/C?connect=v1&encoding=proto&base64=1&compression=gzip&message=-_8");
    expect({ ...g, message: [...g.message] }).toEqual({ path: "/a.B/C", codec: "proto", compression: "gzip", message: [0xfb, 0xff] });
    const j = parseConnectGet("/a.B/C?message=%7B%22a%22%3A1%7D&encoding=json");
    expect(dec.decode(j.message)).toBe('{"a":1}');
    expect(j.compression).toBeUndefined();
    expect(() => parseConnectGet("/a.B/C?message=x")).toThrow(/encoding/);
    expect(percentDecode("%FF%00a")).toEqual(new Uint8Array([0xff, 0, 0x61]));
    expect(() => percentDecode("%G1")).toThrow(/percent/);
  });
});
