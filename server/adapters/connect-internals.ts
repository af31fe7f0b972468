/**
 * Every Connect-ES function the gateway takes from `@connectrpc/connect/protocol*`. Those
 * subpaths are marked `@private` ("does not follow semantic versioning"), so they come in
 * through this one module only: package.json pins `@connectrpc/connect` to the exact
 * version tested, and test/server/connect-internals.test.ts checks that each one still
 * exists, takes the same arguments and gives the same output on a known input. When that
 * test fails after an upgrade, fix the use here (or in the one caller), not the test.
 *
 * Each protocol has its own `parseContentType` and `parseTimeout`; they are renamed here
 * after their protocol.
 */
export { compressedFlag, encodeEnvelope, readAllBytes, transformSplitEnvelope } from "@connectrpc/connect/protocol";
export {
  codeFromString,
  codeToHttpStatus,
  endStreamFlag,
  endStreamToJson,
  errorToJsonBytes,
  parseContentType as parseConnectContentType,
  parseTimeout as parseConnectTimeout,
} from "@connectrpc/connect/protocol-connect";
export {
  codeFromHttpStatus,
  findTrailerError,
  parseContentType as parseGrpcContentType,
  setTrailerStatus,
} from "@connectrpc/connect/protocol-grpc";
export { parseContentType as parseGrpcWebContentType, trailerFlag, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
