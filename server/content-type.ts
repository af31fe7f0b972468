/**
 * Which RPC family a content type belongs to, decided once here for the core (message
 * limits, stream errors, upstream headers) and the adapters. The families accept any codec
 * suffix (`application/grpc+thrift` passes through untouched); the translating adapters
 * narrow to proto and json with Connect-ES's `parseContentType`.
 */

/** A content-type value's media type: lowercased, without parameters ("" when absent). */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase();
}

/** True for gRPC over HTTP/2: `application/grpc` or `application/grpc+<codec>` (not gRPC-Web). */
export function isGrpc(contentType: string | undefined): boolean {
  return /^application\/grpc(\+[^/]+)?$/.test(mediaType(contentType));
}

/** True for gRPC-Web, binary or text: `application/grpc-web[-text][+<codec>]`. */
export function isGrpcWeb(contentType: string | undefined): boolean {
  return /^application\/grpc-web(-text)?(\+[^/]+)?$/.test(mediaType(contentType));
}

/** True for Connect streaming: `application/connect+<codec>`. */
export function isConnectStream(contentType: string | undefined): boolean {
  return /^application\/connect\+[^/]+$/.test(mediaType(contentType));
}

/** True when a body of this content type is a sequence of 5-byte-prefixed envelopes. */
export function isEnveloped(contentType: string | undefined): boolean {
  return isGrpc(contentType) || isGrpcWeb(contentType) || isConnectStream(contentType);
}
