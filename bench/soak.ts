/**
 * `npm run soak [-- --duration SECONDS --clients N]`: minutes of mixed, well-behaved calls
 * from many tunnel sockets while abusive sockets (non-readers with 2^31-1 windows, PING
 * floods, fuzzed frames, slowloris) and faults (the upstream killed and restarted, the
 * gateway drained and replaced at the same address) run beside them. Loopback only, stops
 * by itself, not in CI. Prints calls attempted / succeeded / lost (split into those lost
 * while a fault was under way and the others), the gateway's RSS over time, and every
 * error code seen by clients, abusers and the gateway.
 */
import net from "node:net";
import { parseArgs } from "node:util";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { WebSocket } from "ws";
import { createTransportOverTunnel, createTunnelClient, type TunnelClient, type WebSocketConstructorLike } from "../client/index.js";
import { ServerStreamRequestSchema, TestService } from "../demo/gen/swtunnel/test/v1/test_pb.js";
import {
  ErrorCode,
  MAX_WINDOW,
  PROTOCOL_VERSION,
  SUBPROTOCOL,
  decodeFrame,
  encodeFrame,
  errorCodeName,
  type Frame,
} from "../protocol/index.js";
import type { GatewayOptions } from "../server/index.js";
import { startChild, type Child } from "./child.js";
import { fromRoot } from "../tools/paths.js";

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: { duration: { type: "string", default: "180" }, clients: { type: "string", default: "20" } },
});
const durationMs = Number(values.duration) * 1000;
const clientCount = Number(values.clients);
if (!(durationMs > 0) || !(clientCount > 0)) throw new Error("--duration (seconds) and --clients must be positive numbers");

const MiB = 1 << 20;
const child = fromRoot("dist/bench/soak-child.js");
const gatewayOptions: Partial<GatewayOptions> = {
  maxSocketsPerIp: 1000, // the well-behaved clients all come from 127.0.0.1
  maxStreamBufferedBytes: 1 * MiB,
  maxSocketBufferedBytes: 4 * MiB,
  drainTimeoutMs: 3000,
};

const counts = { attempted: 0, succeeded: 0, lostInFault: 0, lostOtherwise: 0 };
const clientCodes = new Map<string, number>();
const abuseCodes = new Map<string, number>();
const gatewayCodes = new Map<string, number>();
const rss: Array<{ t: number; mib: number }> = [];
const bump = (m: Map<string, number>, k: string, n = 1) => m.set(k, (m.get(k) ?? 0) + n);
const start = performance.now();
const elapsed = () => Math.round((performance.now() - start) / 1000);
let faultUntil = 0; // failures before this time count as "in flight at a fault"
let stopping = false;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function startRole(role: "gateway" | "backend", port: number, options?: unknown): Promise<Child> {
  const c = startChild(child, { args: [role] });
  await c.request("start", { port, options });
  return c;
}

/** Folds a gateway's swtunnel_errors_total into gatewayCodes (before the gateway goes away). */
async function collectGatewayErrors(gw: Child): Promise<void> {
  const text = await gw.request<string>("metrics").catch(() => "");
  for (const line of text.split("\n")) {
    const m = /^swtunnel_errors_total\{code="([^"]+)"\} (\d+)/.exec(line);
    if (m) bump(gatewayCodes, m[1]!, Number(m[2]));
  }
}

// --- well-behaved clients ---------------------------------------------------------------

async function wellBehaved(tunnelUrl: string, index: number): Promise<TunnelClient> {
  const tunnel = createTunnelClient({ url: tunnelUrl, WebSocket: WebSocket as unknown as WebSocketConstructorLike });
  const api = createClient(
    TestService,
    createTransportOverTunnel({ client: tunnel, protocol: (["grpc", "grpc-web", "connect"] as const)[index % 3] }),
  );
  void (async () => {
    for (let i = 0; !stopping; i++) {
      counts.attempted++;
      try {
        if (i % 5 === 4) {
          let n = 0;
          for await (const _ of api.serverStream(create(ServerStreamRequestSchema, { count: 10, size: 1000 }), { timeoutMs: 20_000 })) n++;
          if (n !== 10) throw new ConnectError(`server stream ended after ${n} of 10 messages`, Code.DataLoss);
        } else {
          const r = await api.unary({ text: `c${index}-${i}`, responseSize: 100 + (i % 10) * 1000 }, { timeoutMs: 20_000 });
          if (r.text !== `c${index}-${i}`) throw new ConnectError("wrong echo", Code.DataLoss);
        }
        counts.succeeded++;
      } catch (e) {
        const code = Code[ConnectError.from(e).code] ?? "unknown";
        bump(clientCodes, code);
        if (performance.now() < faultUntil) counts.lostInFault++;
        else counts.lostOtherwise++;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  })();
  return tunnel;
}

// --- abusive sockets ---------------------------------------------------------------------

/** A raw tunnel socket from `localAddress`; resolves once open (SETTINGS sent) or null. */
function rawSocket(url: string, localAddress: string, settings: Frame & { kind: "settings" }): Promise<WebSocket | null> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, [SUBPROTOCOL], { localAddress });
    ws.on("error", () => resolve(null));
    ws.on("unexpected-response", (_req, res) => {
      bump(abuseCodes, `http_${res.statusCode}`);
      resolve(null);
    });
    ws.on("open", () => {
      ws.send(encodeFrame(settings));
      resolve(ws);
    });
    ws.on("message", (data: Buffer) => {
      try {
        const f = decodeFrame(new Uint8Array(data), "server", { maxFramePayload: 16 * MiB, maxHeaderBlockBytes: MiB });
        if (f.kind === "goaway" && f.code !== ErrorCode.NO_ERROR) bump(abuseCodes, `goaway_${errorCodeName(f.code)}`);
        if (f.kind === "rst") bump(abuseCodes, `rst_${errorCodeName(f.code)}`);
      } catch {
        bump(abuseCodes, "undecodable");
      }
    });
  });
}

const closed = (ws: WebSocket) =>
  new Promise<void>((resolve) => (ws.readyState === ws.CLOSED ? resolve() : ws.once("close", () => resolve())));
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const huge: Frame & { kind: "settings" } = {
  kind: "settings",
  settings: { version: PROTOCOL_VERSION, initialStreamWindow: MAX_WINDOW, initialConnectionWindow: MAX_WINDOW },
};
const plain: Frame & { kind: "settings" } = { kind: "settings", settings: { version: PROTOCOL_VERSION } };

/** Runs `attack` on a fresh socket again and again until the soak stops. */
function abuse(name: string, url: () => string, settings: Frame & { kind: "settings" }, attack: (ws: WebSocket) => Promise<void>): void {
  void (async () => {
    while (!stopping) {
      const ws = await rawSocket(url(), "127.0.0.2", settings);
      if (!ws) {
        await pause(500);
        continue;
      }
      bump(abuseCodes, `${name}_sockets`);
      await attack(ws).catch(() => {});
      ws.terminate();
    }
  })();
}

function serverStreamHeaders(id: number): Frame {
  return {
    kind: "request-headers",
    streamId: id,
    endStream: false,
    method: "POST",
    path: "/swtunnel.test.v1.TestService/ServerStream",
    headers: [["content-type", "application/grpc"]],
  };
}

function envelope(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + bytes.length);
  new DataView(out.buffer).setUint32(1, bytes.length);
  out.set(bytes, 5);
  return out;
}

function startAbusers(url: () => string): void {
  // Non-readers with 2^31-1 windows pulling 64 KiB messages; each lives 20 s.
  for (let k = 0; k < 3; k++) {
    abuse("non_reader", url, huge, async (ws) => {
      ws.pause();
      for (let id = 1; id <= 9; id += 2) {
        ws.send(encodeFrame(serverStreamHeaders(id)));
        const req = toBinary(ServerStreamRequestSchema, create(ServerStreamRequestSchema, { count: 100_000, size: 64 * 1024 }));
        ws.send(encodeFrame({ kind: "data", streamId: id, endStream: true, data: envelope(req) }));
      }
      await Promise.race([closed(ws), pause(20_000)]);
    });
  }
  // PING floods from a client that does not read, until the gateway ends the socket.
  abuse("ping_flood", url, plain, async (ws) => {
    ws.pause();
    const ping = encodeFrame({ kind: "ping", data: new Uint8Array(8) });
    for (let i = 0; i < 400 && ws.readyState === ws.OPEN; i++) {
      for (let j = 0; j < 1000; j++) ws.send(ping);
      await new Promise<void>((resolve) => ws.send(ping, () => resolve()));
    }
    ws.resume();
    await Promise.race([closed(ws), pause(5000)]);
  });
  // Fuzzed frames: random type, flags, stream id and payload.
  abuse("fuzz", url, plain, async (ws) => {
    for (let i = 0; i < 5000 && ws.readyState === ws.OPEN; i++) {
      const len = 6 + Math.floor(Math.random() * 64);
      const bytes = new Uint8Array(len).map(() => Math.floor(Math.random() * 256));
      bytes[0] = Math.floor(Math.random() * 12);
      if (Math.random() < 0.9) bytes[2]! &= 0x7f; // mostly without the reserved bit, to get past the header checks
      ws.send(bytes);
      if (i % 100 === 99) await pause(10);
    }
    await Promise.race([closed(ws), pause(1000)]);
  });
}

/** Slowloris: 150 connections from 127.0.0.3 that send half a request head and wait. */
function startSlowloris(port: () => number): void {
  for (let k = 0; k < 150; k++) {
    void (async () => {
      while (!stopping) {
        await new Promise<void>((resolve) => {
          const s = net.connect({ port: port(), host: "127.0.0.1", localAddress: "127.0.0.3" });
          let got = "";
          s.on("connect", () => s.write("GET /tunnel HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
          s.on("data", (d) => (got += d));
          s.on("error", () => {});
          s.on("close", () => {
            const status = /^HTTP\/1\.1 (\d+)/.exec(got)?.[1];
            bump(abuseCodes, status ? `slowloris_http_${status}` : "slowloris_closed");
            resolve();
          });
          const stop = setInterval(() => stopping && s.destroy(), 500);
          s.once("close", () => clearInterval(stop));
        });
        if (!stopping) await pause(200);
      }
    })();
  }
}

// --- the run -------------------------------------------------------------------------------

const backendPort = await freePort();
const gatewayPort = await freePort();
let backend = await startRole("backend", backendPort);
let gateway = await startRole("gateway", gatewayPort, { ...gatewayOptions, upstream: `http://127.0.0.1:${backendPort}` });
const tunnelUrl = `ws://127.0.0.1:${gatewayPort}/tunnel`;
console.log(`soak: ${durationMs / 1000} s, ${clientCount} well-behaved sockets, gateway ${tunnelUrl}, backend :${backendPort}`);

const tunnels = await Promise.all(Array.from({ length: clientCount }, (_, i) => wellBehaved(tunnelUrl, i)));
startAbusers(() => tunnelUrl);
startSlowloris(() => gatewayPort);

const sampler = setInterval(() => {
  void gateway
    .request<{ rss: number }>("usage", undefined, 5000)
    .then((u) => rss.push({ t: elapsed(), mib: u.rss / MiB }))
    .catch(() => {});
}, 5000);

/** The upstream killed with SIGKILL and restarted at the same address 2 s later. */
async function killUpstream(): Promise<void> {
  console.log(`[${elapsed()} s] fault: upstream killed (SIGKILL), restarted in 2 s`);
  faultUntil = performance.now() + 60_000;
  backend.process.kill("SIGKILL");
  await pause(2000);
  backend = await startRole("backend", backendPort);
  faultUntil = performance.now() + 3000;
}

// Faults at 1/4 and 3/4 of the run: the upstream killed and restarted; at 1/2: the gateway
// drained and replaced at the same address.
const faults = (async () => {
  await pause(durationMs / 4);
  if (stopping) return;
  await killUpstream();
  await pause(durationMs / 4 - 2000);
  if (stopping) return;
  console.log(`[${elapsed()} s] fault: gateway drained and replaced`);
  faultUntil = performance.now() + 60_000;
  await collectGatewayErrors(gateway);
  await gateway.stop();
  gateway = await startRole("gateway", gatewayPort, { ...gatewayOptions, upstream: `http://127.0.0.1:${backendPort}` });
  faultUntil = performance.now() + 3000;
  await pause(durationMs / 4);
  if (stopping) return;
  await killUpstream();
})();

await pause(durationMs);
stopping = true;
clearInterval(sampler);
await faults.catch(() => {});
await pause(1000); // calls in flight finish or fail
await collectGatewayErrors(gateway);
for (const t of tunnels) t.close();
await gateway.stop();
await backend.stop();

const lost = counts.lostInFault + counts.lostOtherwise;
const sorted = (m: Map<string, number>) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k}=${v}`)
    .join(", ") || "none";
console.log("\nsoak results (loopback; figures under a shared or loaded machine are indicative only)");
console.log(`calls attempted ${counts.attempted}, succeeded ${counts.succeeded}, lost ${lost}`);
console.log(
  `  failed while a fault was under way (in flight on the killed upstream, or made while it was down / the gateway was replaced): ${counts.lostInFault}`,
);
console.log(`  lost otherwise: ${counts.lostOtherwise}`);
console.log(`error codes seen by well-behaved clients: ${sorted(clientCodes)}`);
console.log(`what abusive sockets got: ${sorted(abuseCodes)}`);
console.log(`gateway swtunnel_errors_total (all gateway instances): ${sorted(gatewayCodes)}`);
console.log(`gateway RSS over time (MiB): ${rss.map((s) => `${s.t}s:${s.mib.toFixed(0)}`).join(" ")}`);
if (rss.length > 0) {
  const values = rss.map((s) => s.mib);
  console.log(`gateway RSS min ${Math.min(...values).toFixed(0)} MiB, max ${Math.max(...values).toFixed(0)} MiB`);
}
process.exit(counts.lostOtherwise === 0 ? 0 : 1);
