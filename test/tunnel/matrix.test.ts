/**
 * The acceptance matrix of "tunnel end to end in Node": every client protocol (gRPC,
 * gRPC-Web binary, Connect binary, Connect JSON) through the Node tunnel client and the
 * real gateway, against the Connect backend (upstreamProtocol "connect") and the grpc-js
 * backend (upstreamProtocol "grpc", descriptors for JSON). Connect-ES's own protocol code
 * makes and reads every call.
 */
import { create } from "@bufbuild/protobuf";
import { Code, decodeBinaryHeader, encodeBinaryHeader, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "../../demo/backend/index.js";
import {
  BidiRequestSchema,
  ClientStreamRequestSchema,
  ErrorDetailSchema,
  type TestService,
} from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { createGateway, type Gateway } from "../../server/index.js";
import type { TunnelClient } from "../../client/index.js";
import { backendKinds, clientProtocols, errorOf, gatewayOptions, startBackend, testClient, tunnelClient, until } from "./support.js";

const MIB = 1 << 20;
const BIG = 8 * MIB;
/** Every Connect code but ok: the gRPC numbers 1..16. */
const codes = Array.from({ length: 16 }, (_, i) => [Code[i + 1]!, (i + 1) as Code] as const);

function isPattern(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== (i & 0xff)) return false;
  return true;
}

let nextId = 0;
function uniqueId(label: string): string {
  return `${label}-${process.pid}-${nextId++}`;
}

describe.each(backendKinds)("%s backend", (kind) => {
  let backend: Backend;
  let gateway: Gateway;
  let tunnel: TunnelClient;

  beforeAll(async () => {
    backend = await startBackend(kind);
    // Room for an 8 MiB message, also as base64 inside Connect JSON (about 11.2 MiB).
    gateway = await createGateway(gatewayOptions(kind, backend, { maxMessageBytes: 16 * MIB }));
    tunnel = tunnelClient(gateway);
  });

  afterAll(async () => {
    tunnel?.close();
    await gateway?.close(0);
    await backend?.close();
  });

  describe.each(clientProtocols)("%s client", (protocol) => {
    let client: Client<typeof TestService>;
    beforeAll(() => {
      client = testClient(protocol, tunnel);
    });

    it("unary", async () => {
      const res = await client.unary({ text: `hello ${protocol} ✓`, responseSize: 1000, payload: new Uint8Array(3000).fill(1) });
      expect(res.text).toBe(`hello ${protocol} ✓`);
      expect(res.payload.length).toBe(1000);
      expect(isPattern(res.payload)).toBe(true);
      expect(res.requestBytes).toBe(3000);
    });

    it("server streaming", async () => {
      const seen: Array<[number, number]> = [];
      for await (const m of client.serverStream({ count: 20, size: 100 })) {
        seen.push([m.index, m.payload.length]);
      }
      expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => [i, 100]));
    });

    it("a server stream that ends with an error keeps its messages and its code", async () => {
      const indexes: number[] = [];
      const err = await errorOf(
        (async () => {
          for await (const m of client.serverStream({ count: 3, size: 1, failCode: Code.ResourceExhausted })) indexes.push(m.index);
        })(),
      );
      expect(indexes).toEqual([0, 1, 2]);
      expect(err.code).toBe(Code.ResourceExhausted);
    });

    it.each(codes)("error %s keeps its code, message and ErrorDetail", async (name, code) => {
      const message = `failed with ${name}: ünïcödé, 100% "quoted"\ttab`;
      const detail = `detail of ${name} ✓`;
      const err = await errorOf(client.fail({ code, message, detail }));
      expect(err.code).toBe(code);
      expect(err.rawMessage).toBe(message);
      expect(err.findDetails(ErrorDetailSchema).map((d) => d.reason)).toEqual([detail]);
    });

    it("metadata: ASCII, repeated and -bin headers come back as headers and trailers", async () => {
      const binary = new Uint8Array([0, 1, 2, 0xfe, 0xff]); // 5 bytes: base64 needs padding
      const headers = new Headers();
      headers.set("x-echo-ascii", "plain value; with=symbols");
      headers.append("x-echo-rep", "first");
      headers.append("x-echo-rep", "second");
      headers.set("x-echo-data-bin", encodeBinaryHeader(binary));
      let header: Headers | undefined;
      let trailer: Headers | undefined;
      await client.unary({ text: "md" }, { headers, onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) });
      expect(header?.get("x-echo-ascii")).toBe("plain value; with=symbols");
      expect(header?.get("x-echo-rep")).toBe("first, second");
      expect(decodeBinaryHeader(header?.get("x-echo-data-bin") ?? "")).toEqual(binary);
      expect(trailer?.get("x-echo-ascii-t")).toBe("plain value; with=symbols");
      expect(trailer?.get("x-echo-rep-t")).toBe("first, second");
      expect(decodeBinaryHeader(trailer?.get("x-echo-data-t-bin") ?? "")).toEqual(binary);
    });

    it("metadata on a server stream", async () => {
      let header: Headers | undefined;
      let trailer: Headers | undefined;
      const stream = client.serverStream(
        { count: 2, size: 1 },
        { headers: { "x-echo-s": "stream" }, onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) },
      );
      let n = 0;
      for await (const _ of stream) n++;
      expect(n).toBe(2);
      expect(header?.get("x-echo-s")).toBe("stream");
      expect(trailer?.get("x-echo-s-t")).toBe("stream");
    });

    it("the deadline reaches the backend", async () => {
      const id = uniqueId("deadline");
      const res = await client.unary({ id, text: "t" }, { timeoutMs: 5_000 });
      expect(Number(res.timeoutMs)).toBeGreaterThan(0);
      expect(Number(res.timeoutMs)).toBeLessThanOrEqual(5_000);
      const seen = backend.recorder.get(id);
      expect(seen.timeoutMs).toBeGreaterThan(0);
      expect(seen.timeoutMs).toBeLessThanOrEqual(5_000);
    });

    it("an expired deadline gives deadline_exceeded", async () => {
      const err = await errorOf(client.unary({ text: "late", delayMs: 5_000 }, { timeoutMs: 200 }));
      expect(err.code).toBe(Code.DeadlineExceeded);
    });

    it("an abort reaches the backend as a cancel within 1 s", async () => {
      const id = uniqueId("abort");
      const ac = new AbortController();
      const call = client.unary({ id, text: "x", delayMs: 20_000 }, { signal: ac.signal });
      await until(`the backend to see call ${id}`, () => backend.recorder.get(id).seen);
      ac.abort();
      expect((await errorOf(call)).code).toBe(Code.Canceled);
      expect(await backend.recorder.waitForCancel(id, 1000)).toBe(true);
    });

    it("an 8 MiB request message", async () => {
      const payload = new Uint8Array(BIG);
      for (let i = 0; i < payload.length; i += 4096) payload[i] = 1;
      const res = await client.unary({ text: "big up", payload });
      expect(res.requestBytes).toBe(BIG);
    });

    it("an 8 MiB response message", async () => {
      const res = await client.unary({ text: "big down", responseSize: BIG });
      expect(res.payload.length).toBe(BIG);
      expect(isPattern(res.payload)).toBe(true);
    });

    it("client streaming", async () => {
      async function* input() {
        for (let i = 0; i < 5; i++) yield create(ClientStreamRequestSchema, { text: `m${i}`, payload: new Uint8Array(1000) });
      }
      const res = await client.clientStream(input());
      expect(res.count).toBe(5);
      expect(res.joined).toBe("m0,m1,m2,m3,m4");
      expect(res.totalBytes).toBe(5000n);
    });

    it("bidi streaming: each answer arrives before the next message is sent", async () => {
      const answered: Array<() => void> = [];
      async function* input() {
        for (let i = 0; i < 5; i++) {
          yield create(BidiRequestSchema, { text: `b${i}` });
          await new Promise<void>((resolve) => answered.push(resolve));
        }
      }
      const texts: string[] = [];
      for await (const m of client.bidi(input())) {
        texts.push(`${m.index}:${m.text}`);
        answered.shift()?.();
      }
      expect(texts).toEqual(["0:b0", "1:b1", "2:b2", "3:b3", "4:b4"]);
    });
  });
});
