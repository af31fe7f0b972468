/**
 * Admission of WebSocket upgrades (subprotocol, Origin allowlist, the authenticate hook,
 * the socket limits) and of streams (the service allowlist). Decides only; the gateway
 * writes the HTTP answer and the connection the RST_STREAM.
 */
import type { IncomingMessage } from "node:http";
import { SUBPROTOCOL } from "../protocol/index.js";

/** A refused upgrade: HTTP status and a short reason for the body and the logs. */
export interface Refusal {
  status: 400 | 401 | 403 | 408 | 429 | 503;
  reason: string;
}

export interface AdmissionOptions {
  /** Exact origins, or `["*"]` for any. */
  allowOrigins: string[];
  /** The gateway's own origin (publicOrigin, else from the listen address); undefined on a wildcard address. */
  ownOrigin?: string | undefined;
  allowNoOrigin: boolean;
  maxSockets: number;
  maxSocketsPerIp: number;
  authenticate?: (request: IncomingMessage) => boolean | Promise<boolean>;
}

/** The subprotocols a client offered (Sec-WebSocket-Protocol, comma-separated). */
export function offeredProtocols(req: IncomingMessage): string[] {
  const raw = req.headers["sec-websocket-protocol"];
  return (raw ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * The origin a gateway admits by default: `publicOrigin` when set, else `http://host:port`
 * of the address it listens on; undefined on a wildcard address (0.0.0.0, ::), where the
 * gateway cannot know how browsers reach it. Never taken from a request's Host header,
 * which the client chooses (DNS rebinding).
 */
export function ownOrigin(publicOrigin: string | undefined, host: string, port: number, scheme = "http"): string | undefined {
  if (publicOrigin !== undefined) return publicOrigin;
  if (host === "" || host === "0.0.0.0" || host === "::" || host === "[::]") return undefined;
  return new URL(`${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}`).origin;
}

/** Checks the Origin against the allowlist (`*` = any), or against the gateway's own origin when there is none. */
export function checkOrigin(
  origin: string | undefined,
  options: Pick<AdmissionOptions, "allowOrigins" | "allowNoOrigin" | "ownOrigin">,
): Refusal | undefined {
  if (origin === undefined) {
    return options.allowNoOrigin ? undefined : { status: 403, reason: "an Origin header is required" };
  }
  if (options.allowOrigins.includes("*")) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return { status: 403, reason: `Origin ${JSON.stringify(origin.slice(0, 100))} is not a valid origin` };
  }
  // URL.origin normalizes case and default ports; the comparison itself is exact.
  const allowed = options.allowOrigins.length > 0 ? options.allowOrigins : options.ownOrigin ? [options.ownOrigin] : [];
  if (allowed.length === 0) {
    return {
      status: 403,
      reason: `Origin ${parsed.origin} refused: this gateway listens on a wildcard address and does not know its own origin; set --allow-origin ${parsed.origin} (or --public-origin, or --allow-origin '*' for any origin)`,
    };
  }
  if (allowed.includes(parsed.origin)) return undefined;
  return options.allowOrigins.length > 0
    ? { status: 403, reason: `Origin ${parsed.origin} is not allowed` }
    : {
        status: 403,
        reason: `Origin ${parsed.origin} is not this gateway's origin ${options.ownOrigin}; set --allow-origin to admit other origins`,
      };
}

/** Socket counts per client IP and in total. */
export class SocketCounter {
  private readonly perIp = new Map<string, number>();
  total = 0;

  /** Over a limit: a refusal; else undefined (the caller then calls `add`). */
  check(ip: string, options: Pick<AdmissionOptions, "maxSockets" | "maxSocketsPerIp">): Refusal | undefined {
    if (this.total >= options.maxSockets) return { status: 503, reason: `gateway is at its limit of ${options.maxSockets} sockets` };
    // 429, not 503: this client is over its own limit, the gateway is not unavailable. A
    // proxy retries a 503 on the other gateway and counts it as that gateway failing
    // (nginx then takes every gateway out of rotation for everybody; test/deploy).
    if ((this.perIp.get(ip) ?? 0) >= options.maxSocketsPerIp) {
      return { status: 429, reason: `address ${ip} is at its limit of ${options.maxSocketsPerIp} sockets` };
    }
    return undefined;
  }

  add(ip: string): void {
    this.total++;
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
  }

  remove(ip: string): void {
    this.total--;
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
  }
}

/** Runs every check except the socket limits (counted by the gateway at accept time). */
export async function admit(req: IncomingMessage, options: AdmissionOptions): Promise<Refusal | undefined> {
  if (!offeredProtocols(req).includes(SUBPROTOCOL)) {
    return { status: 400, reason: `the WebSocket subprotocol ${SUBPROTOCOL} is required` };
  }
  const refusal = checkOrigin(req.headers.origin, options);
  if (refusal) return refusal;
  if (options.authenticate) {
    let ok = false;
    try {
      ok = await options.authenticate(req);
    } catch {
      ok = false;
    }
    if (!ok) return { status: 403, reason: "authentication failed" };
  }
  return undefined;
}

/** The service of a `/pkg.Service/Method` path, or undefined for another shape. */
export function serviceOf(path: string): string | undefined {
  const m = /^\/([^/?]+)\/[^/?]+(\?.*)?$/.exec(path);
  return m?.[1];
}

/**
 * Checks a stream's path against the service allowlist (empty = every service). A refusal
 * is a message for RST_STREAM FORBIDDEN; undefined admits the stream.
 */
export function checkService(path: string, allowServices: readonly string[]): string | undefined {
  if (allowServices.length === 0) return undefined;
  const service = serviceOf(path);
  return service && allowServices.includes(service) ? undefined : `service ${service ?? path} is not allowed by this gateway`;
}
