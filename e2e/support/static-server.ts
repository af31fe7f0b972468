/**
 * The test app's static server (node:http): serves the bundled page, the worker script
 * and index.html with COOP/COEP, and counts requests by method (to prove no CORS
 * preflight reached it).
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface StaticServer {
  port: number;
  /** http://127.0.0.1:port */
  url: string;
  /** http://localhost:port — a second origin on the same server. */
  altUrl: string;
  /** Requests seen, by method, and by path for non-GET. */
  counts: Map<string, number>;
  requests: Array<{ method: string; path: string }>;
  close(): Promise<void>;
}

export async function startStaticServer(files: Record<string, { type: string; body: string | Uint8Array }>): Promise<StaticServer> {
  const counts = new Map<string, number>();
  const requests: Array<{ method: string; path: string }> = [];
  const server = http.createServer((req, res) => {
    const method = req.method ?? "GET";
    counts.set(method, (counts.get(method) ?? 0) + 1);
    const path = new URL(req.url ?? "/", "http://x").pathname;
    requests.push({ method, path });
    const file = files[path === "/" ? "/index.html" : path];
    req.resume();
    if (!file || (method !== "GET" && method !== "HEAD")) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    res.writeHead(200, {
      "content-type": file.type,
      "cache-control": "no-store",
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-embedder-policy": "require-corp",
      "cross-origin-resource-policy": "same-origin",
    });
    res.end(method === "HEAD" ? undefined : file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    altUrl: `http://localhost:${port}`,
    counts,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
