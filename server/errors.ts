/** How failures map to what the client sees: tunnel reset codes and gRPC statuses. */
import { ErrorCode, type HeaderList } from "../protocol/index.js";
import { grpcStatusFields, toConnectError } from "./adapters/grpc-status.js";
import { UpstreamError } from "./exchange.js";

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

/**
 * Headers of a gRPC trailers-only error response (HTTP 200); the status fields are written
 * by Connect-ES (`setTrailerStatus`), as the adapters write theirs.
 */
export function grpcErrorHeaders(err: UpstreamError): HeaderList {
  return [["content-type", "application/grpc"], ...grpcStatusFields(toConnectError(err))];
}
