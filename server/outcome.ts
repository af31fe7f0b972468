/**
 * What the outcome label of a finished stream means. A stream's outcome is one string
 * (the `status` label of `swtunnel_call_duration_seconds`): a gRPC status code ("0".."16"),
 * an HTTP status ("200", "415"...) when no gRPC status was seen, or the name of what ended
 * the stream early (a reset code such as "MESSAGE_TOO_LARGE", "client_CANCEL",
 * "socket_lost"). gRPC codes stop at 16 and HTTP statuses start at 100, so a number alone
 * says which it is. Pure.
 */

/** A stream's outcome, decoded. */
export interface Outcome {
  /** The gRPC status code, when the response carried one. */
  grpcStatus?: number;
  /** The HTTP status of the response head, when it carried no gRPC status. */
  httpStatus?: number;
  /** What ended the stream before a response completed (a reset code name, "socket_lost"...). */
  abort?: string;
  /** True for a non-OK gRPC status, an HTTP status >= 400, or a stream that ended early. */
  failed: boolean;
}

/** Decodes an outcome label (see the module comment). */
export function parseOutcome(label: string): Outcome {
  if (/^\d{1,3}$/.test(label)) {
    const n = Number(label);
    if (n < 100) return { grpcStatus: n, failed: n !== 0 };
    return { httpStatus: n, failed: n >= 400 };
  }
  return { abort: label, failed: true };
}
