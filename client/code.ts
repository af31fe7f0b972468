/**
 * Connect's error codes, kept local so the Service Worker bundle does not pull in
 * @connectrpc/connect (whose ConnectError brings ~90 KB of @bufbuild/protobuf).
 *
 * Same names and numbers as `Code` from @connectrpc/connect (both are gRPC's status
 * codes): Canceled 1, Unknown 2, InvalidArgument 3, DeadlineExceeded 4, NotFound 5,
 * AlreadyExists 6, PermissionDenied 7, ResourceExhausted 8, FailedPrecondition 9,
 * Aborted 10, OutOfRange 11, Unimplemented 12, Internal 13, Unavailable 14, DataLoss 15,
 * Unauthenticated 16. So `Code.Unavailable === ConnectCode.Unavailable`, and a value of
 * either passes where the other is expected after a cast.
 * @module
 */

/** Connect / gRPC error codes by name (values equal to @connectrpc/connect's `Code`). */
export const Code = {
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
} as const;

/** One of the {@link Code} values. */
export type Code = (typeof Code)[keyof typeof Code];

// Names in code order: NAMES[code - 1].
const NAMES = Object.keys(Code) as (keyof typeof Code)[];

/** The code's name as in `Code` ("PermissionDenied"), or undefined for a number that is no code. */
export function codeName(code: number): keyof typeof Code | undefined {
  return Code[NAMES[code - 1]!] === code ? NAMES[code - 1] : undefined;
}

/**
 * The code's wire name ("permission_denied"), as Connect's `codeToString` (from
 * `@connectrpc/connect/protocol-connect`) writes it; the number as text if it is no code.
 */
export function codeToString(code: number): string {
  const name = codeName(code);
  return name ? name[0]!.toLowerCase() + name.slice(1).replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) : code.toString();
}
