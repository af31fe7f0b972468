/**
 * The calls every way of serving the tunnel must carry alike (the standalone gateway in
 * front of a backend, in-process mode), written once: each Connect-ES protocol through
 * the tunnel client, then the streams only gRPC carries (client, bidi) and an abort
 * reaching the service. The caller's file starts the servers; this adds the tests.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { beforeAll, describe, expect, it } from "vitest";
import { BidiRequestSchema, ClientStreamRequestSchema, ErrorDetailSchema, TestService } from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { createTransportOverTunnel, type TunnelClient } from "../../client/index.js";

/** What {@link describeCallKinds} needs of the server under test. */
export interface CallKindsTarget {
  /** Shown in the describe names, e.g. "the gateway -> grpc-js". */
  name: string;
  /** The tunnel client to the server (read once the caller's beforeAll ran). */
  tunnel: () => TunnelClient;
  /** Request and response payload of the big unary call; both under the server's message limit. */
  unaryBytes: { request: number; response: number };
}

/** The failure of `p` as a ConnectError, or undefined when it succeeded. */
export function failure(p: Promise<unknown>): Promise<ConnectError | undefined> {
  return p.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
}

/** Adds the shared call-kind tests for `target`. */
export function describeCallKinds(target: CallKindsTarget): void {
  describe.each(["grpc", "connect", "grpc-web"] as const)(`Connect-ES %s transport to ${target.name}`, (protocol) => {
    let client: Client<typeof TestService>;
    beforeAll(() => {
      client = createClient(TestService, createTransportOverTunnel({ client: target.tunnel(), protocol }));
    });

    it("unary with metadata echoed in headers and trailers", async () => {
      let headers: Headers | undefined;
      let trailers: Headers | undefined;
      const { request, response } = target.unaryBytes;
      const res = await client.unary(
        { text: `hello ${protocol}`, responseSize: response, payload: new Uint8Array(request).fill(7) },
        { headers: { "x-echo-a": "1" }, onHeader: (h) => (headers = h), onTrailer: (t) => (trailers = t) },
      );
      expect(res.text).toBe(`hello ${protocol}`);
      expect(res.payload.length).toBe(response);
      expect(res.payload[257]).toBe(257 & 0xff);
      expect(res.requestBytes).toBe(request);
      expect(headers?.get("x-echo-a")).toBe("1");
      expect(trailers?.get("x-echo-a-t")).toBe("1");
    });

    it("server streaming", async () => {
      const indexes: number[] = [];
      for await (const m of client.serverStream({ count: 5, size: 10 })) indexes.push(m.index);
      expect(indexes).toEqual([0, 1, 2, 3, 4]);
    });

    it("an error keeps its code, message and details", async () => {
      const err = await failure(client.fail({ code: Code.NotFound, message: "nothing here", detail: `d-${protocol}` }));
      expect(err?.code).toBe(Code.NotFound);
      expect(err?.rawMessage).toBe("nothing here");
      expect(err?.findDetails(ErrorDetailSchema).map((d) => d.reason)).toEqual([`d-${protocol}`]);
    });

    it("the deadline reaches the service", async () => {
      const res = await client.unary({ text: "t" }, { timeoutMs: 5_000 });
      expect(Number(res.timeoutMs)).toBeGreaterThan(0);
      expect(Number(res.timeoutMs)).toBeLessThanOrEqual(5_000);
    });
  });

  describe(`streams only gRPC carries, to ${target.name}`, () => {
    let client: Client<typeof TestService>;
    beforeAll(() => {
      client = createClient(TestService, createTransportOverTunnel({ client: target.tunnel() }));
    });

    it("client streaming", async () => {
      async function* input() {
        for (let i = 0; i < 4; i++) yield create(ClientStreamRequestSchema, { text: `m${i}`, payload: new Uint8Array(1000) });
      }
      const res = await client.clientStream(input());
      expect(res.count).toBe(4);
      expect(res.joined).toBe("m0,m1,m2,m3");
      expect(Number(res.totalBytes)).toBeGreaterThanOrEqual(4000);
    });

    it("bidi: each answer arrives before the next message is sent", async () => {
      const answered: Array<() => void> = [];
      async function* input() {
        for (let i = 0; i < 5; i++) {
          yield create(BidiRequestSchema, { text: `b${i}` });
          // Wait for the echo of this message before sending the next one.
          await new Promise<void>((resolve) => answered.push(resolve));
        }
      }
      const texts: string[] = [];
      for await (const m of client.bidi(input())) {
        texts.push(m.text);
        answered.shift()?.();
      }
      expect(texts).toEqual(["b0", "b1", "b2", "b3", "b4"]);
    });

    it("aborting a call cancels it at the service", async () => {
      const id = `abort-${Date.now()}`;
      const ac = new AbortController();
      const p = failure(client.unary({ id, text: "x", delayMs: 10_000 }, { signal: ac.signal }));
      await expect.poll(async () => (await client.inspect({ id })).seen, { timeout: 10_000, interval: 10 }).toBe(true);
      ac.abort();
      expect((await p)?.code).toBe(Code.Canceled);
      await expect.poll(async () => (await client.inspect({ id })).cancelled, { timeout: 10_000, interval: 10 }).toBe(true);
    });
  });
}
