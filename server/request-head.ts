/**
 * Checks on a request head before it becomes a stream, and the forwarding headers the
 * gateway sets itself. A header the gateway cannot carry to an HTTP/2 backend byte for
 * byte is refused with a stream error naming it, never changed or dropped.
 */
import { ErrorCode, type HeaderList } from "../protocol/index.js";

/** Why a request head is refused: the RST_STREAM code and message. */
export interface HeadRefusal {
  code: ErrorCode;
  message: string;
}

/**
 * Forwarding headers a client could send to lie about where a call comes from. Headers in
 * tunnel frames come from the page, never from a proxy hop, so the gateway drops them all
 * and sets `x-forwarded-for` itself from what trusted proxies told it at the upgrade.
 */
const FORWARDING = new Set([
  "forwarded",
  "x-real-ip",
  "true-client-ip",
  "cf-connecting-ip",
  "fastly-client-ip",
  "x-client-ip",
  "x-cluster-client-ip",
]);

/** True for a header the gateway strips toward the backend (forwarding and `proxy-*`). */
export function isForwardingHeader(name: string, clientAddressHeader: string): boolean {
  return name.startsWith("x-forwarded-") || name.startsWith("proxy-") || FORWARDING.has(name) || name === clientAddressHeader;
}

/** `grpc-timeout` per the gRPC over HTTP/2 spec: 1 to 8 ASCII digits and a unit. */
const GRPC_TIMEOUT = /^\d{1,8}[HMSmun]$/;

/**
 * Why HTTP/2 cannot carry `value` as is (RFC 9113 8.2.1, as nghttp2 enforces it: no
 * leading or trailing space or tab, no control character but an inner tab), or undefined
 * when it can. Non-ASCII text is fine: it travels as its UTF-8 bytes.
 */
export function http2ValueProblem(value: string): string | undefined {
  if (/^[ \t]|[ \t]$/.test(value)) return "it starts or ends with a space or tab";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this finds
  const control = /[\x00-\x08\x0a-\x1f\x7f]/.exec(value);
  if (control) return `it contains the control character 0x${control[0].charCodeAt(0).toString(16).padStart(2, "0")}`;
  return undefined;
}

/** The checks of {@link checkRequestHead}. */
export interface HeadLimits {
  /** Most header entries in one request (`maxHeaders`). */
  maxHeaders: number;
  /** The configured client address header, stripped like the other forwarding headers. */
  clientAddressHeader: string;
}

/**
 * The headers to send upstream for a request head, or why it is refused: too many headers
 * (HEADER_BLOCK_TOO_LARGE), a value HTTP/2 cannot carry or a malformed `grpc-timeout`
 * (PROTOCOL_ERROR). Forwarding headers are replaced by `x-forwarded-for: <forwardedFor>`.
 */
export function checkRequestHead(headers: HeaderList, limits: HeadLimits, forwardedFor: string): HeaderList | HeadRefusal {
  if (headers.length > limits.maxHeaders) {
    return {
      code: ErrorCode.HEADER_BLOCK_TOO_LARGE,
      message: `request has ${headers.length} headers; this gateway allows at most ${limits.maxHeaders} (maxHeaders)`,
    };
  }
  const out: HeaderList = [];
  for (const [name, value] of headers) {
    const problem = http2ValueProblem(value);
    if (problem) {
      return { code: ErrorCode.PROTOCOL_ERROR, message: `header ${name} cannot be carried over HTTP/2: ${problem}` };
    }
    if (name === "grpc-timeout" && !GRPC_TIMEOUT.test(value)) {
      return {
        code: ErrorCode.PROTOCOL_ERROR,
        message: `grpc-timeout ${JSON.stringify(value.slice(0, 32))} is malformed: the gRPC spec asks for 1 to 8 digits and a unit H, M, S, m, u or n`,
      };
    }
    if (!isForwardingHeader(name, limits.clientAddressHeader)) out.push([name, value]);
  }
  out.push(["x-forwarded-for", forwardedFor]);
  return out;
}
