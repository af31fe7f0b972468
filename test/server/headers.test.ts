/**
 * Request and response header values through the gateway to a real node:http2 backend:
 * carried byte for byte (UTF-8 both ways) or refused with a stream error naming the header
 * (values HTTP/2 cannot carry, too many headers, a malformed grpc-timeout); forwarding
 * headers a client sends never reach the backend. Every refusal leaves the socket working.
 */
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCode, type HeaderList } from "../../protocol/index.js";
import { createGateway, type Gateway } from "../../server/index.js";
import { RawClient, grpcHeaders, header, startH2Backend, type H2Backend } from "./helpers.js";

let backend: H2Backend;
let gateway: Gateway;
let client: RawClient;
let nextId = 1;

beforeAll(async () => {
  backend = await startH2Backend();
  gateway = await createGateway({ upstream: backend.url, port: 0, logger: pino({ level: "silent" }) });
  client = await RawClient.connect(gateway.tunnelUrl);
});
afterAll(async () => {
  client.close();
  await gateway.close(100);
  await backend.close();
});

/** One /test.Raw/Headers call with extra request headers; what the backend saw and what came back. */
async function call(extra: HeaderList) {
  const id = nextId;
  nextId += 2;
  const seen = backend.seen.length;
  client.send(grpcHeaders(id, "/test.Raw/Headers", true, extra));
  const result = await client.collect(id);
  return { ...result, reached: backend.seen.length > seen, upstream: backend.seen.length > seen ? backend.lastHeaders : undefined };
}

async function expectSocketWorks(): Promise<void> {
  const ok = await call([["x-echo", "still fine"]]);
  expect(header(ok.trailers, "grpc-status")).toBe("0");
  expect(header(ok.headers, "x-echo")).toBe("still fine");
}

describe("header values", () => {
  it("carries UTF-8 text byte for byte to the backend and back (head and trailers)", async () => {
    const text = "café ✓ 日本";
    const r = await call([["x-echo", text]]);
    expect(header(r.trailers, "grpc-status")).toBe("0");
    // node hands the backend one character per byte: those bytes are exactly the UTF-8 of the text.
    expect(Buffer.from(String(r.upstream?.["x-echo"]), "latin1")).toEqual(Buffer.from(text, "utf8"));
    expect(header(r.headers, "x-echo")).toBe(text);
    expect(header(r.trailers, "x-echo-t")).toBe(text);
  });

  it("carries inner tabs and spaces as they are", async () => {
    const r = await call([["x-echo", "a\tb  c"]]);
    expect(String(r.upstream?.["x-echo"])).toBe("a\tb  c");
    expect(header(r.headers, "x-echo")).toBe("a\tb  c");
  });

  it.each([
    [" leading", "starts or ends with a space or tab"],
    ["trailing\t", "starts or ends with a space or tab"],
    ["bell\u0007", "contains the control character 0x07"],
    ["del\u007f", "contains the control character 0x7f"],
  ])("refuses %j with RST_STREAM PROTOCOL_ERROR naming the header; the backend never sees it", async (value, why) => {
    const r = await call([["x-bad", value]]);
    expect(r.rst).toEqual({ code: ErrorCode.PROTOCOL_ERROR, message: `header x-bad cannot be carried over HTTP/2: it ${why}` });
    expect(r.reached).toBe(false);
    await expectSocketWorks();
  });

  it("answers a backend header that is not UTF-8 with a gRPC INTERNAL status naming it", async () => {
    const r = await call([["x-raw-reply", "e9"]]); // a lone Latin-1 é
    expect(header(r.headers, "grpc-status")).toBe("13");
    expect(decodeURIComponent(header(r.headers, "grpc-message") ?? "")).toContain("upstream header x-raw is not UTF-8 text");
    await expectSocketWorks();
  });
});

describe("header count", () => {
  it("admits 100 headers (the default maxHeaders) and refuses 101 with HEADER_BLOCK_TOO_LARGE", async () => {
    const many = (n: number): HeaderList => Array.from({ length: n }, (_, i) => [`x-h${i}`, String(i)]);
    const ok = await call(many(99)); // + content-type = 100
    expect(header(ok.trailers, "grpc-status")).toBe("0");
    expect(ok.upstream?.["x-h98"]).toBe("98");
    const refused = await call(many(100));
    expect(refused.rst).toEqual({
      code: ErrorCode.HEADER_BLOCK_TOO_LARGE,
      message: "request has 101 headers; this gateway allows at most 100 (maxHeaders)",
    });
    expect(refused.reached).toBe(false);
    await expectSocketWorks();
  });
});

describe("grpc-timeout", () => {
  it("passes a valid grpc-timeout on", async () => {
    const r = await call([["grpc-timeout", "1500m"]]);
    expect(r.upstream?.["grpc-timeout"]).toBe("1500m");
  });

  it.each(["10", "10x", "123456789S", "-1S", "1.5S", ""])("refuses grpc-timeout %j with PROTOCOL_ERROR", async (value) => {
    const r = await call([["grpc-timeout", value]]);
    expect(r.rst?.code).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(r.rst?.message).toMatch(/grpc-timeout .* is malformed: the gRPC spec asks for 1 to 8 digits and a unit H, M, S, m, u or n/);
    expect(r.reached).toBe(false);
    await expectSocketWorks();
  });
});

describe("forwarding headers from the client", () => {
  it("never reach the backend; the gateway sets x-forwarded-for itself", async () => {
    const r = await call([
      ["x-forwarded-for", "6.6.6.6"],
      ["x-forwarded-host", "evil.example"],
      ["forwarded", "for=6.6.6.6"],
      ["x-real-ip", "6.6.6.6"],
      ["cf-connecting-ip", "6.6.6.6"],
      ["true-client-ip", "6.6.6.6"],
      ["proxy-authorization", "Basic c3Bvb2Y="],
      ["x-echo", "kept"],
    ]);
    const up = r.upstream!;
    expect(up["x-forwarded-for"]).toBe("127.0.0.1");
    for (const name of ["x-forwarded-host", "forwarded", "x-real-ip", "cf-connecting-ip", "true-client-ip", "proxy-authorization"]) {
      expect(up[name], name).toBeUndefined();
    }
    expect(up["x-echo"]).toBe("kept");
  });
});
