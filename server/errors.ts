/** How failures map to what the client sees: tunnel reset codes and gRPC statuses. */
import { ErrorCode, type HeaderList } from "../protocol/index.js";
import { UpstreamError } from "./exchange.js";

const GRPC_STATUS: Record<UpstreamError["code"], number> = {
  canceled: 1,
  deadline_exceeded: 4,
  resource_exhausted: 8,
  internal: 13,
  unavailable: 14,
};

const RESET_CODE: Record<UpstreamError["code"], ErrorCode> = {
  canceled: ErrorCode.CANCEL,
  deadline_exceeded: ErrorCode.CANCEL,
  resource_exhausted: ErrorCode.ENHANCE_YOUR_CALM,
  internal: ErrorCode.INTERNAL_ERROR,
  unavailable: ErrorCode.UPSTREAM_UNAVAILABLE,
};

/** Any error as an UpstreamError (unexpected errors are `internal`). */
export function asUpstreamError(err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  return new UpstreamError("internal", `gateway error: ${err instanceof Error ? err.message : String(err)}`);
}

/** The RST_STREAM code for a failure after the response head went out. */
export function resetCodeFor(err: UpstreamError): ErrorCode {
  return RESET_CODE[err.code];
}

/** Percent-encodes a grpc-message value as the gRPC spec asks (bytes outside 0x20..0x7e, and '%'). */
export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(message)) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Headers of a gRPC trailers-only error response (HTTP 200). */
export function grpcErrorHeaders(err: UpstreamError): HeaderList {
  return [
    ["content-type", "application/grpc"],
    ["grpc-status", String(GRPC_STATUS[err.code])],
    ["grpc-message", encodeGrpcMessage(err.message)],
  ];
}
