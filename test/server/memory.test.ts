/**
 * Memory per idle tunnel socket. The clients run in a child process, so that only the
 * gateway's side of the 1,000 sockets is measured in this one; heap and ArrayBuffer
 * memory are read after a full GC on both sides of the measurement (counts of bytes, not
 * timings).
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { pino } from "pino";
import { PROTOCOL_VERSION, SUBPROTOCOL, encodeFrame } from "../../protocol/index.js";
import { createGateway, type Gateway } from "../../server/index.js";
import { startH2Backend, until, type H2Backend } from "./helpers.js";

const SOCKETS = 1000;
/** Bound asked of the gateway: heap + ArrayBuffers per idle socket. */
const MAX_BYTES_PER_SOCKET = 64 << 10;

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

/**
 * The client side: opens `count` sockets (`batch` at a time), sends SETTINGS on each,
 * waits for the gateway's SETTINGS, prints "ready", and stays idle until stdin closes.
 */
const CLIENT = `
import { WebSocket } from ${JSON.stringify(pathToFileURL(createRequire(import.meta.url).resolve("ws")).href.replace(/\/index\.js$/, "/wrapper.mjs"))};
const [url, protocol, settingsHex, count, batch] = process.argv.slice(1);
const settings = Buffer.from(settingsHex, "hex");
const sockets = [];
function open() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, [protocol], { perMessageDeflate: false });
    ws.once("open", () => ws.send(settings));
    ws.once("message", () => resolve(ws));
    ws.once("error", reject);
    sockets.push(ws);
  });
}
for (let i = 0; i < Number(count); i += Number(batch)) {
  await Promise.all(Array.from({ length: Math.min(Number(batch), Number(count) - i) }, open));
}
process.stdout.write("ready\\n");
process.stdin.resume();
process.stdin.on("end", () => { for (const ws of sockets) ws.terminate(); process.exit(0); });
`;

let backend: H2Backend;
let gateway: Gateway;
const children: ChildProcessWithoutNullStreams[] = [];

/** Starts a client process with `count` idle sockets; resolves once all are set up. */
async function clients(count: number): Promise<ChildProcessWithoutNullStreams> {
  const settings = Buffer.from(encodeFrame({ kind: "settings", settings: { version: PROTOCOL_VERSION } })).toString("hex");
  const child = spawn(process.execPath, [
    "--input-type=module",
    "-e",
    CLIENT,
    gateway.tunnelUrl,
    SUBPROTOCOL,
    settings,
    String(count),
    "100",
  ]);
  children.push(child);
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d) => String(d).includes("ready") && resolve());
    child.once("exit", (code) => reject(new Error(`client process exited with ${code}: ${stderr}`)));
  });
  return child;
}

async function stop(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.stdin.end();
  await exited;
}

/** Heap + ArrayBuffer bytes after full GCs (several passes: weak callbacks free more). */
async function settledMemory(): Promise<{ heap: number; arrayBuffers: number; external: number }> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed, arrayBuffers: m.arrayBuffers, external: m.external };
}

beforeAll(async () => {
  backend = await startH2Backend();
  // All clients share 127.0.0.1, so the per-IP limit (default 100) is raised.
  gateway = await createGateway({ upstream: backend.url, port: 0, logger: pino({ level: "silent" }), maxSocketsPerIp: SOCKETS });
});
afterAll(async () => {
  for (const c of children) await stop(c);
  await gateway.close(100);
  await backend.close();
});

it(`holds ${SOCKETS} idle sockets in under ${MAX_BYTES_PER_SOCKET / 1024} KiB of heap + ArrayBuffers each`, async () => {
  // Warm-up: lazily created code, caches and pools are not per-socket costs.
  await stop(await clients(100));
  await until(() => gateway.stats().sockets === 0, "the warm-up sockets to close");
  const before = await settledMemory();

  const child = await clients(SOCKETS);
  await until(() => gateway.stats().sockets === SOCKETS, `${SOCKETS} sockets to be open at the gateway`);
  const after = await settledMemory();

  const heap = (after.heap - before.heap) / SOCKETS;
  const arrayBuffers = (after.arrayBuffers - before.arrayBuffers) / SOCKETS;
  const external = (after.external - before.external) / SOCKETS;
  const perSocket = heap + arrayBuffers;
  console.log(
    `gateway memory per idle socket: ${(perSocket / 1024).toFixed(1)} KiB (heap ${(heap / 1024).toFixed(1)} KiB, ` +
      `ArrayBuffers ${(arrayBuffers / 1024).toFixed(1)} KiB; external incl. ArrayBuffers ${(external / 1024).toFixed(1)} KiB)`,
  );
  expect(perSocket).toBeLessThan(MAX_BYTES_PER_SOCKET);
  expect(perSocket).toBeGreaterThan(0); // the measurement sees the sockets at all

  await stop(child);
  await until(() => gateway.stats().sockets === 0, "the sockets to close");
});
