/** Deadline headers: Connect's `connect-timeout-ms` as gRPC's `grpc-timeout`. */
import { Code, ConnectError } from "@connectrpc/connect";

const MAX_GRPC_DIGITS = 99_999_999; // grpc-timeout allows at most 8 digits

/**
 * `connect-timeout-ms` (up to 10 digits of milliseconds) as a `grpc-timeout` value,
 * in milliseconds when it fits 8 digits, else in whole seconds rounded up.
 */
export function connectTimeoutToGrpc(value: string): string {
  if (!/^\d{1,10}$/.test(value)) {
    throw new ConnectError(`connect-timeout-ms must be 1 to 10 digits of milliseconds, got "${value}"`, Code.InvalidArgument);
  }
  const ms = Number(value);
  return ms <= MAX_GRPC_DIGITS ? `${ms}m` : `${Math.ceil(ms / 1000)}S`;
}
