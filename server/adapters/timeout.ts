/** Deadline headers: Connect's `connect-timeout-ms` as gRPC's `grpc-timeout`. */
import { ConnectError } from "@connectrpc/connect";
import { parseConnectTimeout } from "./connect-internals.js";

const MAX_GRPC_DIGITS = 99_999_999; // grpc-timeout allows at most 8 digits

/**
 * `connect-timeout-ms` (up to 10 digits of milliseconds, read by Connect-ES) as a
 * `grpc-timeout` value, in milliseconds when it fits 8 digits, else in whole seconds
 * rounded up. A malformed value is `invalid_argument`.
 */
export function connectTimeoutToGrpc(value: string): string {
  const { timeoutMs, error } = parseConnectTimeout(value, Number.MAX_SAFE_INTEGER);
  if (error) throw new ConnectError(`connect-timeout-ms must be 1 to 10 digits of milliseconds, got "${value}"`, error.code);
  const ms = timeoutMs!;
  return ms <= MAX_GRPC_DIGITS ? `${ms}m` : `${Math.ceil(ms / 1000)}S`;
}
