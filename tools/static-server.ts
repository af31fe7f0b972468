/**
 * The one static file server of the demo, the benchmark and the browser tests. Every
 * response is cross-origin isolated (COOP same-origin + COEP require-corp, and CORP on
 * everything), so `performance.now()` in the page has 5 µs resolution rather than 100 µs.
 * It serves a directory or an in-memory file map, and records every request (the tests
 * prove with it that no CORS preflight reached the origin).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import type { AddressInfo } from "node:net";

/** The headers that make a page cross-origin isolated; also set on every subresource. */
export const isolationHeaders: Readonly<Record<string, string>> = {
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-embedder-policy": "require-corp",
  "cross-origin-resource-policy": "cross-origin",
};

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};

/** Options of {@link startStaticServer}. */
export interface StaticServerOptions {
  /** Directory whose files are served; `/` serves index.html. */
  root?: string;
  /** In-memory files by path (`/index.html`, `/sw.js`...), looked up before `root`. */
  files?: Record<string, { type: string; body: string | Uint8Array }>;
  /** Host to bind; default 127.0.0.1. */
  host?: string;
  /** Port; default 0 (a free one). */
  port?: number;
  /** Handles a request before the file lookup; return true if it answered. */
  handle?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

/** A running static server. */
export interface StaticServer {
  readonly server: Server;
  /** e.g. "http://127.0.0.1:41234" */
  readonly origin: string;
  /** The same as `origin`. */
  readonly url: string;
  /** `http://localhost:port`: a second origin on the same server (when bound to 127.0.0.1). */
  readonly altUrl: string;
  readonly port: number;
  /** Requests seen, in order. */
  readonly requests: Array<{ method: string; path: string }>;
  /** Requests seen, by method. */
  readonly counts: Map<string, number>;
  close(): Promise<void>;
}

/** Serves `files` and `root` with isolation headers; Service Worker scripts may claim scope `/`. */
export async function startStaticServer(options: StaticServerOptions): Promise<StaticServer> {
  const root = options.root === undefined ? undefined : normalize(options.root);
  const requests: Array<{ method: string; path: string }> = [];
  const counts = new Map<string, number>();
  const server = createServer((req, res) => {
    const method = req.method ?? "GET";
    counts.set(method, (counts.get(method) ?? 0) + 1);
    requests.push({ method, path: new URL(req.url ?? "/", "http://x").pathname });
    for (const [name, value] of Object.entries(isolationHeaders)) res.setHeader(name, value);
    if (options.handle?.(req, res)) return;
    serveFile(root, options.files, req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(`static server error: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? "127.0.0.1";
  const origin = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    server,
    port,
    origin,
    url: origin,
    altUrl: `http://localhost:${port}`,
    requests,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function serveFile(
  root: string | undefined,
  files: StaticServerOptions["files"],
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  req.resume();
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD" }).end();
    return;
  }
  const pathname = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
  const file = files?.[pathname === "/" ? "/index.html" : pathname];
  if (file) {
    res.writeHead(200, { "content-type": file.type, "cache-control": "no-store", "service-worker-allowed": "/" });
    res.end(req.method === "HEAD" ? undefined : file.body);
    return;
  }
  if (root === undefined) {
    res.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${pathname}`);
    return;
  }
  const relative = pathname.endsWith("/") ? `${pathname}index.html` : pathname;
  const path = normalize(join(root, relative));
  if (path !== root && !path.startsWith(root + sep)) {
    res.writeHead(403).end();
    return;
  }
  let body: Buffer;
  try {
    body = await readFile(path);
  } catch {
    res.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${pathname}`);
    return;
  }
  res.writeHead(200, {
    "content-type": contentTypes[extname(path)] ?? "application/octet-stream",
    "content-length": body.length,
    "cache-control": "no-cache",
    // Lets a worker script served from a sub-path control the whole origin.
    "service-worker-allowed": "/",
  });
  res.end(req.method === "HEAD" ? undefined : body);
}
