/**
 * Failures around the tunnel: the backend goes away and comes back on the same port, and
 * a gateway drains while a fresh one takes over its port, with calls running throughout.
 */
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "../../demo/backend/index.js";
import { createGateway, type Gateway } from "../../server/index.js";
import type { TunnelClient } from "../../client/index.js";
import {
  backendKinds,
  clientProtocols,
  errorOf,
  gatewayOptions,
  startBackend,
  testClient,
  tunnelClient,
  type ClientProtocol,
} from "./support.js";

describe.each(backendKinds)("%s backend down and back", (kind) => {
  let backend: Backend | undefined;
  let gateway: Gateway;
  let tunnel: TunnelClient;
  let port: number;

  beforeAll(async () => {
    backend = await startBackend(kind);
    port = backend.port;
    gateway = await createGateway(gatewayOptions(kind, backend));
    tunnel = tunnelClient(gateway);
  });

  afterAll(async () => {
    tunnel?.close();
    await gateway?.close(0);
    await backend?.close();
  });

  it("calls fail with unavailable while the backend is down, and succeed once it is back on the same port", async () => {
    const clients = clientProtocols.map(([p]) => [p, testClient(p, tunnel)] as const);
    for (const [p, client] of clients) expect((await client.unary({ text: `before ${p}` })).text).toBe(`before ${p}`);

    await backend!.close();
    backend = undefined;
    for (const [p, client] of clients) {
      const err = await errorOf(client.unary({ text: `down ${p}` }));
      expect([p, err.code]).toEqual([p, Code.Unavailable]);
    }

    backend = await startBackend(kind, port);
    for (const [p, client] of clients) expect((await client.unary({ text: `back ${p}` })).text).toBe(`back ${p}`);
    // Nothing was restarted: the same gateway and the same tunnel socket carried it all.
    expect(tunnel.stats()).toMatchObject({ sockets: 1, reconnects: 0 });
    expect(gateway.stats().sockets).toBe(1);
  });
});

describe("drain and takeover on the same port", () => {
  const CALLERS = 64;
  let backend: Backend;
  const gateways: Gateway[] = [];
  let tunnel: TunnelClient | undefined;

  beforeAll(async () => {
    backend = await startBackend("grpc-js");
  });

  afterAll(async () => {
    tunnel?.close();
    for (const g of gateways) await g.close(0);
    await backend?.close();
  });

  it(`${CALLERS} callers looping calls see no failure while the gateway drains and a fresh one takes over`, async () => {
    const first = await createGateway(gatewayOptions("grpc-js", backend));
    gateways.push(first);
    const port = first.address.port;
    tunnel = tunnelClient(first, { reconnect: { initialDelayMs: 10, maxDelayMs: 100 } });
    const clients = clientProtocols.map(([p]) => testClient(p, tunnel!));

    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    async function caller(n: number): Promise<void> {
      const protocol: ClientProtocol = clientProtocols[n % clientProtocols.length]![0];
      const client = clients[n % clients.length]!;
      for (let i = 0; !stop; i++) {
        try {
          const res = await client.unary({ text: `${n}.${i}`, delayMs: 5 });
          if (res.text !== `${n}.${i}`) failures.push(`${protocol} caller ${n}: wrong answer ${res.text}`);
          else ok++;
        } catch (e) {
          failures.push(`${protocol} caller ${n}: ${String(e)}`);
        }
      }
    }
    const callers = Array.from({ length: CALLERS }, (_, n) => caller(n));

    const okBefore = await waitForMore(() => ok, 500);
    // Drain: accepted calls finish on the old gateway, new ones wait for the new one.
    await first.close();
    const second = await createGateway(gatewayOptions("grpc-js", backend, { port }));
    gateways.push(second);
    const okAtTakeover = ok;
    await waitForMore(() => ok, okAtTakeover + 500);
    stop = true;
    await Promise.all(callers);

    expect(failures).toEqual([]);
    expect(okBefore).toBeGreaterThanOrEqual(500);
    expect(second.stats().streamsTotal).toBeGreaterThanOrEqual(500);
    // One socket left (the new gateway's); reconnects counts every attempt, refused ones too.
    expect(tunnel.stats()).toMatchObject({ sockets: 1, streamsOpen: 0, streamsQueued: 0 });
    expect(tunnel.stats().reconnects).toBeGreaterThanOrEqual(1);
  });
});

/** Resolves with the counter once it reached `target` (within 25 s, inside the 30 s test timeout). */
async function waitForMore(count: () => number, target: number): Promise<number> {
  await expect.poll(count, { timeout: 25_000, interval: 5 }).toBeGreaterThanOrEqual(target);
  return count();
}
