/** Connect error answers: the unary error JSON and the streaming end-stream message. */
import type { ConnectError } from "@connectrpc/connect";
import type { HeaderList } from "../../protocol/index.js";
import { bodyOf } from "../body.js";
import type { ProxyResponse } from "../exchange.js";
import { codeToHttpStatus, encodeEnvelope, endStreamFlag, endStreamToJson, errorToJsonBytes } from "./connect-internals.js";
import { toFetchHeaders } from "./headers.js";

const encoder = new TextEncoder();

/**
 * A Connect unary error: the HTTP status for the code and the error JSON
 * `{code, message, details: [{type, value}]}` (values base64 without padding).
 */
export function connectUnaryError(error: ConnectError, headers: HeaderList = []): ProxyResponse {
  return {
    status: codeToHttpStatus(error.code),
    headers: [...headers, ["content-type", "application/json"]],
    body: bodyOf(errorToJsonBytes(error, {})),
    trailers: () => [],
  };
}

/** A Connect end-stream message (flag 0x02): JSON `{error?, metadata?}`. */
export function endStreamMessage(error: ConnectError | undefined, metadata: HeaderList): Uint8Array {
  const json = endStreamToJson(toFetchHeaders(metadata), error, {});
  return encodeEnvelope(endStreamFlag, encoder.encode(JSON.stringify(json)));
}

/** A Connect streaming answer that carries only an end-stream message (HTTP 200). */
export function connectStreamError(clientType: string, error: ConnectError, metadata: HeaderList = []): ProxyResponse {
  return {
    status: 200,
    headers: [["content-type", clientType]],
    body: bodyOf(endStreamMessage(error, metadata)),
    trailers: () => [],
    // Connect's codes are gRPC's, by number.
    rpcStatus: () => String(error.code),
  };
}
