/**
 * 1,000 streams open at once on one tunnel socket (gateway maxStreamsPerSocket 1000),
 * against both backends. Each call is a gRPC bidi stream held open until all 1,000 got
 * their first answer, so they are provably concurrent; then all end and must succeed.
 */
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "../../demo/backend/index.js";
import { BidiRequestSchema } from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { createGateway, type Gateway } from "../../server/index.js";
import type { TunnelClient } from "../../client/index.js";
import { backendKinds, gatewayOptions, startBackend, testClient, tunnelClient, until } from "./support.js";

const STREAMS = 1000;

describe.each(backendKinds)("%s backend", (kind) => {
  let backend: Backend;
  let gateway: Gateway;
  let tunnel: TunnelClient;

  beforeAll(async () => {
    backend = await startBackend(kind);
    gateway = await createGateway(gatewayOptions(kind, backend, { maxStreamsPerSocket: STREAMS }));
    tunnel = tunnelClient(gateway);
  });

  afterAll(async () => {
    tunnel?.close();
    await gateway?.close(0);
    await backend?.close();
  });

  it(`${STREAMS} concurrent streams on one socket all succeed`, async () => {
    const client = testClient("grpc", tunnel);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let firstAnswers = 0;

    async function call(i: number): Promise<string[]> {
      async function* input() {
        yield create(BidiRequestSchema, { text: `s${i}-a` });
        await released; // keep the request open until every stream is running
        yield create(BidiRequestSchema, { text: `s${i}-b` });
      }
      const texts: string[] = [];
      for await (const m of client.bidi(input())) {
        if (texts.length === 0) firstAnswers++;
        texts.push(m.text);
      }
      return texts;
    }

    const calls = Array.from({ length: STREAMS }, (_, i) => call(i));
    await until(`${STREAMS} streams to get their first answer`, () => firstAnswers === STREAMS, 20_000);
    expect(tunnel.stats()).toMatchObject({ sockets: 1, streamsOpen: STREAMS, streamsQueued: 0, reconnects: 0 });
    expect(gateway.stats()).toMatchObject({ sockets: 1, streamsActive: STREAMS });
    release();
    const results = await Promise.all(calls);
    expect(results).toEqual(Array.from({ length: STREAMS }, (_, i) => [`s${i}-a`, `s${i}-b`]));
    expect(tunnel.stats()).toMatchObject({ sockets: 1, streamsOpen: 0, reconnects: 0 });
    expect(gateway.stats()).toMatchObject({ sockets: 1, streamsActive: 0, streamsTotal: STREAMS });
  });
});
