/**
 * The acceptance suite of one proxy recipe (deploy/proxies/*), run by nginx.test.ts,
 * haproxy.test.ts and caddy.test.ts: a real grpc-js backend, two real gateways, the
 * proxy on its recipe, and Node tunnel clients with Connect transports through it.
 */
import * as net from "node:net";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createTransportOverTunnel, createTunnelClient, type TunnelClient, type TunnelStatus } from "../../client/index.js";
import { type Backend, Recorder, startGrpcBackend } from "../../demo/backend/index.js";
import { TestService } from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { createGateway, type Gateway, type GatewayOptions } from "../../server/index.js";
import { writeSelfSignedCert } from "../../tools/tls.js";
import { upgradeByHand } from "../server/helpers.js";
import { freePort, type ProxyKind, type RunningProxy, startProxy } from "./proxies.js";

/** Counts how often the backend ran each request id (the plain Recorder keeps a flag). */
export class CountingRecorder extends Recorder {
  readonly runs = new Map<string, number>();
  override seen(id: string, timeoutMs: number | undefined): void {
    if (id !== "") this.runs.set(id, (this.runs.get(id) ?? 0) + 1);
    super.seen(id, timeoutMs);
  }
}

/** The proxy's idle timeout in the test, and the gateway's keepalive well inside it. */
export const IDLE_TIMEOUT_S = 2;
export const PING_INTERVAL_MS = 300;

/** The value of a gateway metric sample (summed over label sets matching `labels`). */
export async function sample(gateway: Gateway, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = gateway.metrics.getSingleMetric(name);
  if (!metric) throw new Error(`the gateway has no metric ${name}`);
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

export function proxySuite(kind: ProxyKind): void {
  describe(`${kind} in front of two gateways`, () => {
    const recorder = new CountingRecorder();
    let backend: Backend;
    let proxy: RunningProxy;
    const ports: [number, number] = [0, 0];
    const gateways: Gateway[] = [];
    const retired: Gateway[] = [];
    const tunnels: TunnelClient[] = [];

    function options(port: number, extra: Partial<GatewayOptions> = {}): GatewayOptions {
      return {
        upstream: backend.url,
        port,
        logLevel: "silent",
        pingIntervalMs: PING_INTERVAL_MS,
        // Explicit, as production should be: the pages' origin, here the proxy's.
        allowOrigins: [proxy?.url ?? "http://127.0.0.1"],
        ...extra,
      };
    }

    function tunnel(onStatus?: (s: TunnelStatus) => void): TunnelClient {
      const t = createTunnelClient({
        url: `ws://127.0.0.1:${proxy.port}/tunnel`,
        WebSocket,
        reconnect: { initialDelayMs: 10, maxDelayMs: 100 },
        onStatus,
      });
      tunnels.push(t);
      return t;
    }

    function client(t: TunnelClient, protocol: "grpc" | "grpc-web" | "connect" = "grpc") {
      return createClient(TestService, createTransportOverTunnel({ client: t, protocol }));
    }

    /** Replaces gateway `i` by a fresh one on the same port (after `old` drained). */
    async function restart(i: 0 | 1, extra: Partial<GatewayOptions> = {}): Promise<Gateway> {
      const old = gateways[i]!;
      await old.close(); // drain: GOAWAY, accepted calls finish, then the port closes
      retired.push(old);
      const fresh = await createGateway(options(ports[i], extra));
      gateways[i] = fresh;
      return fresh;
    }

    /** Opens probe sockets through the proxy until one lands on `target` (it is back in rotation). */
    async function waitRoutedTo(target: Gateway): Promise<void> {
      const before = await sample(target, "swtunnel_sockets_total");
      await expect
        .poll(
          async () => {
            const probe = tunnel();
            try {
              await probe.request({ method: "GET", path: "/", headers: [] }).catch(() => undefined);
            } finally {
              probe.close();
            }
            return (await sample(target, "swtunnel_sockets_total")) > before;
          },
          { timeout: 20_000, interval: 50 },
        )
        .toBe(true);
    }

    let certDir: string | undefined;
    let certificate: { cert: string; key: string } | undefined;

    beforeAll(async () => {
      certDir = await mkdtemp(join(tmpdir(), "swtunnel-cert-"));
      certificate = writeSelfSignedCert(certDir);
      backend = await startGrpcBackend({ recorder });
      ports[0] = await freePort();
      ports[1] = await freePort();
      proxy = await startProxy(kind, {
        gateways: [`127.0.0.1:${ports[0]}`, `127.0.0.1:${ports[1]}`],
        idleTimeoutSeconds: IDLE_TIMEOUT_S,
        tls: certificate,
      });
      for (const port of ports) gateways.push(await createGateway(options(port)));
    });

    afterAll(async () => {
      for (const t of tunnels) t.close();
      for (const g of [...gateways, ...retired]) await g?.close(0);
      await proxy?.close();
      await backend?.close();
      if (certDir) await rm(certDir, { recursive: true, force: true });
    });

    it(`terminates TLS: wss:// to ${kind} with a certificate made at test time, ws:// to the gateways`, async () => {
      const ca = readFileSync(certificate!.cert);
      class TrustingWebSocket extends WebSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols, { ca });
        }
      }
      const url = `wss://127.0.0.1:${proxy.tlsPort}/tunnel`;
      const t = createTunnelClient({ url, WebSocket: TrustingWebSocket });
      tunnels.push(t);
      for (const protocol of ["grpc", "grpc-web", "connect"] as const) {
        expect((await client(t, protocol).unary({ text: `wss ${protocol}` })).text).toBe(`wss ${protocol}`);
      }
      // The certificate is really checked: a client that does not trust it cannot connect.
      const untrusting = new WebSocket(url, ["swtunnel.v1"]);
      const err = await new Promise<Error & { code?: string }>((resolve) => untrusting.once("error", resolve));
      expect(err.code).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
      t.close();
    });

    it("carries calls of every protocol, and spreads sockets over both gateways", async () => {
      // Before the first socket: a health-checking proxy may not have seen both gateways up yet.
      await waitRoutedTo(gateways[0]!);
      await waitRoutedTo(gateways[1]!);
      const before = await Promise.all(gateways.map((g) => sample(g, "swtunnel_streams_total")));
      const first = tunnel();
      const second = tunnel();
      for (const t of [first, second]) {
        for (const protocol of ["grpc", "grpc-web", "connect"] as const) {
          const res = await client(t, protocol).unary({ text: `via ${kind} ${protocol}` });
          expect(res.text).toBe(`via ${kind} ${protocol}`);
        }
        const messages: number[] = [];
        for await (const m of client(t).serverStream({ count: 5, size: 3 })) messages.push(m.payload.length);
        expect(messages).toEqual([3, 3, 3, 3, 3]);
      }
      const after = await Promise.all(gateways.map((g) => sample(g, "swtunnel_streams_total")));
      // Two sockets, round robin: one on each gateway, each carrying 4 calls.
      expect(after.map((n, i) => n - before[i]!)).toEqual([4, 4]);
      first.close();
      second.close();
    });

    it("keeps an idle socket open past the proxy's idle timeout: the gateway's PINGs cross it", async () => {
      const t = tunnel();
      const c = client(t);
      expect((await c.unary({ text: "before idle" })).text).toBe("before idle");
      const opened = (await Promise.all(gateways.map((g) => sample(g, "swtunnel_sockets_total")))).reduce((a, b) => a + b);
      const pongs = async () =>
        (await Promise.all(gateways.map((g) => sample(g, "swtunnel_frames_total", { kind: "pong", direction: "in" })))).reduce(
          (a, b) => a + b,
        );
      // Idle (no stream) until PONGs answered through the proxy span 1.5 times its timeout.
      const start = await pongs();
      const needed = Math.ceil((1.5 * IDLE_TIMEOUT_S * 1000) / PING_INTERVAL_MS);
      await expect.poll(pongs, { timeout: 30_000, interval: 100 }).toBeGreaterThanOrEqual(start + needed);
      expect((await c.unary({ text: "after idle" })).text).toBe("after idle");
      expect(t.stats()).toMatchObject({ sockets: 1, reconnects: 0 });
      expect((await Promise.all(gateways.map((g) => sample(g, "swtunnel_sockets_total")))).reduce((a, b) => a + b)).toBe(opened);
      t.close();
    });

    it("loses no call and runs none twice while the two gateways restart one after the other", async () => {
      const CALLERS = 16;
      const clients = Array.from({ length: 4 }, () => tunnel()).flatMap((t) => [
        client(t, "grpc"),
        client(t, "grpc-web"),
        client(t, "connect"),
      ]);
      recorder.runs.clear();
      let stop = false;
      let ok = 0;
      const failures: string[] = [];
      async function caller(n: number): Promise<void> {
        const c = clients[n % clients.length]!;
        for (let i = 0; !stop; i++) {
          const id = `${kind}.${n}.${i}`;
          try {
            const res = await c.unary({ id, text: id, delayMs: 5 });
            if (res.text !== id) failures.push(`caller ${n}: wrong answer ${res.text} for ${id}`);
            else ok++;
          } catch (e) {
            failures.push(`caller ${n} call ${id}: ${String(e)}`);
          }
        }
      }
      const callers = Array.from({ length: CALLERS }, (_, n) => caller(n));
      const atLeast = (target: number) => expect.poll(() => ok, { timeout: 30_000, interval: 20 }).toBeGreaterThanOrEqual(target);
      try {
        await atLeast(200);
        const a = await restart(0);
        await waitRoutedTo(a); // an operator waits for the new instance to be in rotation
        await atLeast(ok + 200);
        await restart(1);
        await atLeast(ok + 200);
      } finally {
        stop = true;
        await Promise.all(callers);
      }
      expect(failures).toEqual([]);
      // Every answered call ran exactly once on the backend, and nothing ran unanswered.
      const runs = [...recorder.runs.values()];
      expect(runs.filter((n) => n !== 1)).toEqual([]);
      expect(runs.length).toBe(ok);
      // The calls really went through the restarts: both old gateways and the new first one carried some.
      for (const g of [...retired, gateways[0]!]) expect(await sample(g, "swtunnel_streams_total")).toBeGreaterThan(0);
    });

    it("the client address the proxy forwards reaches the gateways' per-IP limit and their logs", async () => {
      // Clients bind 127.0.0.2 and 127.0.0.3; the proxy reaches the gateways from 127.0.0.1,
      // which --trust-proxy names. One socket per address per gateway: two gateways, two sockets.
      const logs: Array<Record<string, unknown>> = [];
      const logger = pino({ level: "info" }, { write: (line: string) => void logs.push(JSON.parse(line)) });
      const trusting = { trustProxy: ["127.0.0.1"], maxSocketsPerIp: 1, logger };
      await restart(0, trusting);
      await restart(1, trusting);
      await waitRoutedTo(gateways[0]!);
      await waitRoutedTo(gateways[1]!);
      const url = `ws://127.0.0.1:${proxy.port}/tunnel`;
      const held: Array<{ close(): void }> = [];
      try {
        // Until 127.0.0.2 holds a socket on each gateway. The proxy passes a 429 through
        // instead of trying the other gateway, so an attempt that lands on the gateway
        // already holding one is refused; the next lands on the other.
        const refusals: string[] = [];
        for (let attempt = 0; attempt < 10 && held.length < 2; attempt++) {
          const u = await upgradeByHand(url, { localAddress: "127.0.0.2", origin: proxy.url });
          if (u.status === 101) held.push(u);
          else refusals.push(`${u.status} ${u.body.trim()}`);
        }
        expect(gateways.map((g) => g.stats().sockets)).toEqual([1, 1]);
        for (const r of refusals) expect(r).toBe("429 address 127.0.0.2 is at its limit of 1 sockets");
        // Now every attempt from that address is refused, whichever gateway it reaches,
        // though every socket's TCP peer is the proxy.
        for (let i = 0; i < 4; i++) {
          const u = await upgradeByHand(url, { localAddress: "127.0.0.2", origin: proxy.url });
          expect(`${u.status} ${u.body.trim()}`).toBe("429 address 127.0.0.2 is at its limit of 1 sockets");
        }
        // Another client behind the same proxy is not affected.
        const other = await upgradeByHand(url, { localAddress: "127.0.0.3", origin: proxy.url });
        held.push(other);
        expect(other.status).toBe(101);
        const opened = logs.filter((l) => l.msg === "socket open" && l.peer === "127.0.0.1").map((l) => l.remote);
        expect(opened.filter((r) => r !== "127.0.0.1").sort()).toEqual(["127.0.0.2", "127.0.0.2", "127.0.0.3"]);
      } finally {
        for (const h of held) h.close();
      }
    });

    if (kind === "caddy") {
      it("Caddy applies no idle timeout to WebSockets: a socket without keepalive outlives servers.timeouts.idle", async () => {
        await restart(0, { pingIntervalMs: 0 });
        await restart(1, { pingIntervalMs: 0 });
        await waitRoutedTo(gateways[0]!);
        await waitRoutedTo(gateways[1]!);
        const statuses: TunnelStatus[] = [];
        const t = tunnel((s) => statuses.push(s));
        expect((await client(t).unary({ text: "no keepalive" })).text).toBe("no keepalive");
        // A keep-alive HTTP connection opened now is closed by Caddy's idle timeout...
        await httpConnectionClosedByIdleTimeout(proxy.port);
        // ...while the WebSocket, just as idle for as long, is still there.
        expect(statuses).not.toContain("reconnecting");
        expect((await client(t).unary({ text: "still here" })).text).toBe("still here");
        expect(t.stats()).toMatchObject({ sockets: 1, reconnects: 0 });
      });
    } else {
      it("closes a socket without keepalive after its idle timeout (the timeout above is real)", async () => {
        await restart(0, { pingIntervalMs: 0 });
        await restart(1, { pingIntervalMs: 0 });
        await waitRoutedTo(gateways[0]!);
        await waitRoutedTo(gateways[1]!);
        const statuses: TunnelStatus[] = [];
        const t = tunnel((s) => statuses.push(s));
        expect((await client(t).unary({ text: "no keepalive" })).text).toBe("no keepalive");
        // No PING either way: the proxy cuts the socket; the client notices and would reconnect.
        await expect.poll(() => statuses.includes("reconnecting"), { timeout: 30_000, interval: 100 }).toBe(true);
        await expect.poll(() => gateways.reduce((n, g) => n + g.stats().sockets, 0), { timeout: 10_000 }).toBe(0);
      });
    }
  });
}

/** Sends one keep-alive request on a raw connection and resolves when the proxy closes it. */
async function httpConnectionClosedByIdleTimeout(port: number): Promise<void> {
  const socket = net.connect(port, "127.0.0.1");
  let answer = "";
  socket.setEncoding("utf8");
  socket.on("data", (d: string) => (answer += d));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    socket.once("close", () => resolve());
    socket.once("error", reject);
  });
  expect(answer).toMatch(/^HTTP\/1\.1 200/);
}
