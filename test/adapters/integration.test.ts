/**
 * The adapters against real backends: Connect-ES's own protocol code (createTransport of
 * protocol-connect, protocol-grpc-web, protocol-grpc) as the client, the adapter in-process
 * as its HTTP client, a real node:http2 connection to a real @grpc/grpc-js server (or a
 * @connectrpc/connect-node server for the passthrough).
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import type { CommonTransportOptions } from "@connectrpc/connect/protocol";
import { createTransport as createConnect } from "@connectrpc/connect/protocol-connect";
import { createTransport as createGrpc } from "@connectrpc/connect/protocol-grpc";
import { createTransport as createGrpcWeb, trailerParse } from "@connectrpc/connect/protocol-grpc-web";
import { compressionGzip } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { patternBytes, startConnectBackend, startGrpcBackend, type Backend } from "../../demo/backend/index.js";
import {
  BidiRequestSchema,
  ClientStreamRequestSchema,
  ErrorDetailSchema,
  TestService,
  UnaryRequestSchema,
  UnaryResponseSchema,
} from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { createAdapters } from "../../server/adapters/index.js";
import type { ProtocolAdapter, Upstream, UpstreamProtocol } from "../../server/exchange.js";
import {
  adapterClient,
  collect,
  dec,
  descriptorsWithNoSideEffects,
  enc,
  env,
  envelopes,
  header,
  http2Upstream,
  request,
} from "./support.js";

const descriptors = readFileSync(new URL("../../demo/gen/descriptors.binpb", import.meta.url));
type Kind = "connect" | "grpc-web" | "grpc";

function transport(
  kind: Kind,
  adapters: ProtocolAdapter[],
  up: UpstreamProtocol,
  upstream: Upstream,
  opts: Partial<CommonTransportOptions> = {},
): Transport {
  const options: CommonTransportOptions = {
    baseUrl: "http://gateway.test",
    httpClient: adapterClient(adapters, up, upstream),
    useBinaryFormat: true,
    interceptors: [],
    acceptCompression: [],
    sendCompression: null,
    compressMinBytes: 0,
    readMaxBytes: 0xffffffff,
    writeMaxBytes: 0xffffffff,
    ...opts,
  };
  return kind === "connect" ? createConnect(options) : kind === "grpc-web" ? createGrpcWeb(options) : createGrpc(options);
}

async function* items<T>(...xs: T[]): AsyncIterable<T> {
  for (const x of xs) yield x;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** The calls every protocol/codec combination must carry faithfully. */
function behaves(name: string, make: () => Client<typeof TestService>) {
  describe(name, () => {
    let client: Client<typeof TestService>;
    beforeAll(() => {
      client = make();
    });

    it("unary: echo, payload, deadline and metadata", async () => {
      let headers: Headers | undefined;
      let trailers: Headers | undefined;
      const res = await client.unary(
        { text: "héllo", responseSize: 300, payload: new Uint8Array(7) },
        { timeoutMs: 20_000, headers: { "x-echo-a": "1" }, onHeader: (h) => (headers = h), onTrailer: (t) => (trailers = t) },
      );
      expect(res.text).toBe("héllo");
      expect(res.payload).toEqual(patternBytes(300));
      expect(res.requestBytes).toBe(7);
      expect(res.timeoutMs).toBeGreaterThan(0n);
      expect(res.timeoutMs).toBeLessThanOrEqual(20_000n);
      expect(headers?.get("x-echo-a")).toBe("1");
      expect(trailers?.get("x-echo-a-t")).toBe("1");
    });

    it("server stream: messages then an error with its code", async () => {
      const got: number[] = [];
      const err = await (async () => {
        for await (const m of client.serverStream({ count: 3, size: 5, failCode: Code.DataLoss })) got.push(m.index);
      })().catch((e: unknown) => e);
      expect(got).toEqual([0, 1, 2]);
      expect(ConnectError.from(err).code).toBe(Code.DataLoss);
    });

    it("client stream and bidi", async () => {
      const cs = await client.clientStream(
        items(...["a", "b", "c"].map((text) => create(ClientStreamRequestSchema, { text, payload: new Uint8Array(2) }))),
      );
      expect(cs).toMatchObject({ count: 3, totalBytes: 6n, joined: "a,b,c" });
      const texts: string[] = [];
      for await (const m of client.bidi(items(create(BidiRequestSchema, { text: "x" }), create(BidiRequestSchema, { text: "y" }))))
        texts.push(m.text);
      expect(texts).toEqual(["x", "y"]);
    });

    it("errors keep code, message and details", async () => {
      const err = ConnectError.from(
        await client.fail({ code: Code.PermissionDenied, message: "no way ü", detail: "why" }).catch((e: unknown) => e),
      );
      expect(err.code).toBe(Code.PermissionDenied);
      expect(err.rawMessage).toBe("no way ü");
      expect(err.findDetails(ErrorDetailSchema).map((d) => d.reason)).toEqual(["why"]);
    });
  });
}

describe("adapters to a real @grpc/grpc-js upstream", () => {
  let backend: Backend;
  let up: ReturnType<typeof http2Upstream>;
  const adapters = createAdapters({ upstreamProtocol: "grpc", descriptors });
  const bare = createAdapters({ upstreamProtocol: "grpc" });

  beforeAll(async () => {
    backend = await startGrpcBackend();
    up = http2Upstream(backend.url);
  });
  afterAll(async () => {
    up?.close();
    await backend?.close();
  });

  const client = (kind: Kind, opts: Partial<CommonTransportOptions> = {}, list = adapters) =>
    createClient(TestService, transport(kind, list, "grpc", up.upstream, opts));

  behaves("gRPC passthrough", () => client("grpc"));
  behaves("gRPC-Web binary", () => client("grpc-web"));
  behaves("gRPC-Web JSON (descriptors)", () => client("grpc-web", { useBinaryFormat: false }));
  behaves("Connect binary", () => client("connect"));
  behaves("Connect JSON (descriptors)", () => client("connect", { useBinaryFormat: false }));
  behaves("Connect binary, gzip requests", () =>
    client("connect", { sendCompression: compressionGzip, acceptCompression: [compressionGzip] }),
  );

  it("JSON without descriptors: failed_precondition telling what to do", async () => {
    for (const kind of ["connect", "grpc-web"] as const) {
      const c = client(kind, { useBinaryFormat: false }, bare);
      const unaryErr = ConnectError.from(await c.unary({ text: "x" }).catch((e: unknown) => e));
      expect(unaryErr.code).toBe(Code.FailedPrecondition);
      expect(unaryErr.rawMessage).toContain("--descriptors FILE");
      const streamErr = await (async () => {
        for await (const _ of c.serverStream({ count: 1 })) void _;
      })().catch((e: unknown) => ConnectError.from(e));
      expect(streamErr?.code).toBe(Code.FailedPrecondition);
    }
  });

  it("Connect GET reaches the backend for a NO_SIDE_EFFECTS method, and only then", async () => {
    const safe = createAdapters({
      upstreamProtocol: "grpc",
      descriptors: descriptorsWithNoSideEffects(descriptors, ["swtunnel.test.v1.TestService/Unary"]),
    });
    const [adapter] = safe.filter((a) => a.name === "connect-unary");
    const msg = toBinary(UnaryRequestSchema, create(UnaryRequestSchema, { text: "got", responseSize: 2 }));
    const path = `/swtunnel.test.v1.TestService/Unary?connect=v1&encoding=proto&base64=1&message=${Buffer.from(msg).toString("base64url")}`;
    const res = await adapter!.handle(request({ method: "GET", path, headers: [["connect-timeout-ms", "9000"]] }), up.upstream);
    expect(res.status).toBe(200);
    const out = fromBinary(UnaryResponseSchema, await collect(res.body));
    expect(out.text).toBe("got");
    expect(out.timeoutMs).toBeGreaterThan(0n);
    expect(out.timeoutMs).toBeLessThanOrEqual(9000n);
    // The same GET with the demo's descriptors (Unary not marked): 405, the backend never called.
    const [plain] = adapters.filter((a) => a.name === "connect-unary");
    const refused = await plain!.handle(request({ method: "GET", path, headers: [] }), up.upstream);
    expect(refused.status).toBe(405);
    expect(JSON.parse(dec.decode(await collect(refused.body)))).toMatchObject({ code: "unimplemented" });
  });

  it("gRPC-Web text mode reaches the backend (base64 cut at odd places)", async () => {
    const [adapter] = adapters.filter((a) => a.name === "grpc-web");
    const body = Buffer.from(env(0, toBinary(UnaryRequestSchema, create(UnaryRequestSchema, { text: "txt", responseSize: 4 })))).toString(
      "base64",
    );
    const parts = [body.slice(0, 3), body.slice(3, 8), body.slice(8)].map((s) => enc.encode(s));
    const res = await adapter!.handle(
      request({
        headers: [
          ["content-type", "application/grpc-web-text"],
          ["x-grpc-web", "1"],
        ],
        body: parts,
      }),
      up.upstream,
    );
    expect(header(res.headers, "content-type")).toBe("application/grpc-web-text");
    const text: string[] = [];
    for await (const c of res.body) text.push(dec.decode(c));
    const frames = envelopes(Buffer.concat(text.map((t) => Buffer.from(t, "base64"))));
    expect(fromBinary(UnaryResponseSchema, frames[0]!.data)).toMatchObject({ text: "txt", payload: patternBytes(4) });
    expect(frames[1]!.flags).toBe(0x80);
    expect(trailerParse(frames[1]!.data).get("grpc-status")).toBe("0");
  });

  it("an unreachable upstream is unavailable in every protocol", async () => {
    const dead = http2Upstream(`http://127.0.0.1:${await freePort()}`);
    try {
      for (const kind of ["connect", "grpc-web", "grpc"] as const) {
        const c = createClient(TestService, transport(kind, adapters, "grpc", dead.upstream));
        const err = ConnectError.from(await c.unary({ text: "x" }).catch((e: unknown) => e));
        expect(err.code).toBe(Code.Unavailable);
        const streamErr = await (async () => {
          for await (const _ of c.serverStream({ count: 1 })) void _;
        })().catch((e: unknown) => ConnectError.from(e));
        expect(streamErr?.code).toBe(Code.Unavailable);
      }
    } finally {
      dead.close();
    }
  });
});

describe("passthrough to a real @connectrpc/connect-node upstream", () => {
  let backend: Backend;
  let up: ReturnType<typeof http2Upstream>;
  const adapters = createAdapters({ upstreamProtocol: "connect" });

  beforeAll(async () => {
    backend = await startConnectBackend();
    up = http2Upstream(backend.url);
  });
  afterAll(async () => {
    up?.close();
    await backend?.close();
  });

  for (const kind of ["connect", "grpc-web", "grpc"] as const) {
    behaves(`${kind} binary`, () => createClient(TestService, transport(kind, adapters, "connect", up.upstream)));
  }
  behaves("connect JSON", () =>
    createClient(TestService, transport("connect", adapters, "connect", up.upstream, { useBinaryFormat: false })),
  );
});
