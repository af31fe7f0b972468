/**
 * Benchmark child process that holds many idle tunnel sockets open against a gateway, so
 * the gateway's memory per idle socket can be measured in the gateway's own process. Each
 * socket does the real SETTINGS exchange and answers PINGs, as an idle browser worker does.
 */
import { WebSocket } from "ws";
import { PROTOCOL_VERSION, SUBPROTOCOL, decodeFrame, encodeFrame } from "../protocol/index.js";
import { processUsage, serveParent } from "./child.js";

const sockets: WebSocket[] = [];

/** Opens one socket and resolves once the gateway's SETTINGS arrived. */
function openOne(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, SUBPROTOCOL, { perMessageDeflate: false });
    let settled = false;
    socket.binaryType = "nodebuffer";
    socket.once("open", () => {
      socket.send(encodeFrame({ kind: "settings", settings: { version: PROTOCOL_VERSION, maxConcurrentStreams: 0 } }));
    });
    socket.on("message", (data: Buffer) => {
      const frame = decodeFrame(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), "server");
      if (frame.kind === "settings" && !settled) {
        settled = true;
        resolve(socket);
      } else if (frame.kind === "ping") {
        socket.send(encodeFrame({ kind: "pong", data: frame.data }));
      }
    });
    socket.once("error", (error) => {
      if (!settled) {
        settled = true;
        reject(error);
      }
    });
    socket.once("unexpected-response", (_req, res) => {
      if (!settled) {
        settled = true;
        reject(new Error(`gateway refused the upgrade with HTTP ${res.statusCode}`));
      }
    });
  });
}

/** Opens sockets until `total` are open, `parallel` handshakes at a time. */
async function openUpTo(body: { url: string; total: number; parallel?: number }): Promise<{ open: number }> {
  const parallel = body.parallel ?? 200;
  let next = sockets.length;
  const worker = async (): Promise<void> => {
    while (next < body.total) {
      next++;
      sockets.push(await openOne(body.url));
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { open: sockets.length };
}

async function closeAll(): Promise<{ open: number }> {
  await Promise.all(
    sockets.splice(0).map(
      (socket) =>
        new Promise<void>((resolve) => {
          socket.once("close", () => resolve());
          socket.close();
          setTimeout(() => {
            socket.terminate();
            resolve();
          }, 2000).unref();
        }),
    ),
  );
  return { open: 0 };
}

serveParent(
  {
    open: (body) => openUpTo(body as { url: string; total: number; parallel?: number }),
    close: () => closeAll(),
    usage: () => processUsage(false),
  },
  async () => {
    await closeAll();
  },
);
