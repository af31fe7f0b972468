/**
 * Admission of WebSocket upgrades (subprotocol, Origin allowlist, the authenticate hook,
 * the socket limits) and of streams (the service allowlist). Decides only; the gateway
 * writes the HTTP answer and the connection the RST_STREAM.
 */
import type { IncomingMessage } from "node:http";
import { SUBPROTOCOL } from "../protocol/index.js";

/** A refused upgrade: HTTP status and a short reason for the body and the logs. */
export interface Refusal {
  status: 400 | 401 | 403 | 503;
  reason: string;
}

export interface AdmissionOptions {
  allowOrigins: string[];
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

/** Checks the Origin against the allowlist, or against the request's own Host when there is none. */
export function checkOrigin(
  origin: string | undefined,
  host: string | undefined,
  options: Pick<AdmissionOptions, "allowOrigins" | "allowNoOrigin">,
): Refusal | undefined {
  if (origin === undefined) {
    return options.allowNoOrigin ? undefined : { status: 403, reason: "an Origin header is required" };
  }
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return { status: 403, reason: `Origin ${JSON.stringify(origin.slice(0, 100))} is not a valid origin` };
  }
  if (options.allowOrigins.length > 0) {
    return options.allowOrigins.includes(parsed.origin) ? undefined : { status: 403, reason: `Origin ${parsed.origin} is not allowed` };
  }
  return host !== undefined && parsed.host === host.toLowerCase()
    ? undefined
    : { status: 403, reason: `Origin ${parsed.origin} is not this gateway's origin and no allowlist is configured` };
}

/** Socket counts per client IP and in total. */
export class SocketCounter {
  private readonly perIp = new Map<string, number>();
  total = 0;

  /** Over a limit: a refusal; else undefined (the caller then calls `add`). */
  check(ip: string, options: Pick<AdmissionOptions, "maxSockets" | "maxSocketsPerIp">): Refusal | undefined {
    if (this.total >= options.maxSockets) return { status: 503, reason: `gateway is at its limit of ${options.maxSockets} sockets` };
    if ((this.perIp.get(ip) ?? 0) >= options.maxSocketsPerIp) {
      return { status: 503, reason: `address ${ip} is at its limit of ${options.maxSocketsPerIp} sockets` };
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
  const refusal = checkOrigin(req.headers.origin, req.headers.host, options);
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
