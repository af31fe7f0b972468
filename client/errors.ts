/**
 * How tunnel failures surface to callers: RST_STREAM / GOAWAY codes and socket loss become
 * errors with a Connect code, following the table in docs/PROTOCOL.md ("Reset codes as the
 * client reports them").
 *
 * The worker runtime does not import @connectrpc/connect (see code.ts for why), so its
 * errors are {@link TunnelError}s: shaped like Connect's `ConnectError` (name, code,
 * rawMessage, metadata, details, cause, and the same `[code] message` text), which makes
 * `err instanceof ConnectError` true and `ConnectError.from(err)` keep the code, by
 * Connect-ES's own duck-typed `instanceof` check. Where a real ConnectError is due (the
 * Connect transports over {@link createUniversalClient}), connect-client.ts converts.
 */
import { ErrorCode, errorCodeName } from "../protocol/index.js";
import { Code, codeToString } from "./code.js";

/** Options of {@link TunnelError}. */
export interface TunnelErrorOptions {
  /** Response metadata to report with the error (Connect's `ConnectError.metadata`). */
  metadata?: HeadersInit;
  /** The underlying failure. */
  cause?: unknown;
}

/**
 * An RPC failure with a Connect {@link Code}: what the tunnel client rejects with.
 * Passes `instanceof ConnectError` from @connectrpc/connect (hence `name` "ConnectError");
 * it carries no error details, as the tunnel never produces any.
 */
export class TunnelError extends Error {
  override name = "ConnectError";
  /** The Connect code. */
  readonly code: Code;
  /** The message without the `[code]` prefix. */
  readonly rawMessage: string;
  readonly metadata: Headers;
  /** Always empty; present so the error has ConnectError's shape. */
  readonly details: never[] = [];
  /** False: the error was made here, not parsed from an RPC response. */
  readonly isWireError = false;
  override cause: unknown;

  constructor(message: string, code: Code = Code.Unknown, options: TunnelErrorOptions = {}) {
    super(message.length ? `[${codeToString(code)}] ${message}` : `[${codeToString(code)}]`);
    this.code = code;
    this.rawMessage = message;
    this.metadata = new Headers(options.metadata ?? {});
    this.cause = options.cause;
  }
}

/**
 * The fields of an error shaped like Connect's ConnectError, read by the code that turns an
 * error into an RPC error response. Both TunnelError and a real ConnectError have them.
 */
export interface RpcErrorLike {
  readonly code: number;
  readonly rawMessage: string;
  readonly metadata: Headers;
  readonly isWireError?: boolean;
}

/**
 * True for a TunnelError or a ConnectError (from any copy of @connectrpc/connect): the
 * same structural test as `ConnectError[Symbol.hasInstance]`.
 */
export function isRpcError(v: unknown): v is RpcErrorLike & Error {
  if (v instanceof TunnelError) return true;
  if (!(v instanceof Error) || v.name !== "ConnectError") return false;
  const e = v as Error & Record<string, unknown>;
  return typeof e.code === "number" && "metadata" in e && Array.isArray(e.details) && typeof e.rawMessage === "string" && "cause" in e;
}

/**
 * Any thrown value as an error with a Connect code, by the rules of `ConnectError.from`:
 * a TunnelError or ConnectError as is; an AbortError / TimeoutError as `canceled`; any
 * other Error or value with `code` (default `unknown`), keeping it as the cause.
 */
export function toTunnelError(reason: unknown, code: Code = Code.Unknown): TunnelError {
  // A ConnectError has every field a TunnelError declares, with the same meaning.
  if (isRpcError(reason)) return reason as TunnelError;
  if (reason instanceof Error) {
    if (reason.name === "AbortError" || reason.name === "TimeoutError") return new TunnelError(reason.message, Code.Canceled);
    return new TunnelError(reason.message, code, { cause: reason });
  }
  return new TunnelError(String(reason), code, { cause: reason });
}

/** The Connect code a tunnel error code is reported as. */
export function connectCodeOf(code: number): Code {
  switch (code) {
    case ErrorCode.REFUSED_STREAM:
    case ErrorCode.UPSTREAM_UNAVAILABLE:
      return Code.Unavailable;
    case ErrorCode.CANCEL:
      return Code.Canceled;
    case ErrorCode.FORBIDDEN:
      return Code.PermissionDenied;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.HEADER_BLOCK_TOO_LARGE:
    case ErrorCode.ENHANCE_YOUR_CALM:
      return Code.ResourceExhausted;
    default:
      return Code.Internal;
  }
}

/** The error for a stream the gateway reset with RST_STREAM (or a GOAWAY that ended it). */
export function resetError(code: number, message: string): TunnelError {
  const text = message || `the tunnel gateway reset the stream with ${errorCodeName(code)}`;
  return new TunnelError(text, connectCodeOf(code));
}

/**
 * The error for calls in flight when the socket to the gateway is lost. Its message starts
 * with "tunnel socket lost": such a call may have reached the backend.
 */
export function socketLostError(why: string): TunnelError {
  return new TunnelError(`tunnel socket lost: ${why}`, Code.Unavailable);
}

/**
 * The error for calls that never reached the gateway because no socket could be opened.
 * Its message starts with "tunnel gateway unreachable": replaying such a call is safe.
 */
export function unreachableError(why: string): TunnelError {
  return new TunnelError(`tunnel gateway unreachable: ${why}`, Code.Unavailable);
}

/** The error for a call the caller aborted (or the client was closed). */
export function canceledError(why = "the call was canceled"): TunnelError {
  return new TunnelError(why, Code.Canceled);
}
