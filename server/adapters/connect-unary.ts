/**
 * Connect unary (POST and GET) to a pure gRPC upstream, as Vanguard does: the message
 * becomes one gRPC envelope; the single response message becomes the HTTP body, gRPC
 * trailers become `trailer-<name>` headers, and a gRPC error becomes the Connect error
 * JSON with the HTTP status for its code. Unary bodies are bounded, so they are read whole.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { HeaderList } from "../../protocol/index.js";
import { bodyOf } from "../body.js";
import type { ProtocolAdapter, ProxyRequest, ProxyResponse, Upstream } from "../exchange.js";
import { decompress, isIdentity } from "./compression.js";
import { connectUnaryError } from "./connect-errors.js";
import { compressedFlag, encodeEnvelope, parseConnectContentType, readAllBytes, transformSplitEnvelope } from "./connect-internals.js";
import { isConnectGet, parseConnectGet } from "./connect-get.js";
import { connectRequestHeaders } from "./connect-stream.js";
import type { AdapterContext } from "./context.js";
import { classifyGrpcHead, FirstError, metadataOf, statusError } from "./grpc-status.js";
import { contentType, getHeader, grpcProtocolHeaders, withoutHeaders } from "./headers.js";
import { envelopePayload, jsonMethod } from "./messages.js";
import { connectTimeoutToGrpc } from "./timeout.js";

/** The Connect unary adapter (POST and GET) for a pure gRPC upstream. */
export function createConnectUnaryAdapter(ctx: AdapterContext): ProtocolAdapter {
  return {
    name: "connect-unary",
    matches(request, upstreamProtocol) {
      if (upstreamProtocol !== "grpc") return false;
      if (request.method === "POST") return parseConnectContentType(contentType(request.headers))?.stream === false;
      return isConnectGet(request.method, request.path) && /[?&]encoding=(proto|json)(&|$)/.test(request.path);
    },
    handle(request, upstream) {
      return handle(ctx, request, upstream);
    },
  };
}

/** A Connect unary request read whole. */
interface UnaryCall {
  path: string;
  codec: string;
  message: Uint8Array;
  encoding: string | undefined;
}

async function readCall(request: ProxyRequest, maxBytes: number): Promise<UnaryCall> {
  if (request.method === "GET") {
    const get = parseConnectGet(request.path);
    return { path: get.path, codec: get.codec, message: get.message, encoding: get.compression };
  }
  return {
    path: request.path,
    codec: contentType(request.headers).slice("application/".length),
    message: await readUnaryBody(request.body, maxBytes),
    encoding: getHeader(request.headers, "content-encoding"),
  };
}

async function handle(ctx: AdapterContext, request: ProxyRequest, upstream: Upstream): Promise<ProxyResponse> {
  const firstError = new FirstError();
  let method: DescMethod | undefined;
  let res: ProxyResponse;
  try {
    const call = await readCall(request, ctx.maxMessageBytes);
    if (call.codec !== "proto" && call.codec !== "json") {
      throw new ConnectError(`Connect codec "${call.codec}" cannot reach a gRPC upstream; use proto or json`, Code.Unimplemented);
    }
    const headers: HeaderList = withoutHeaders(request.headers, connectRequestHeaders);
    headers.push(["content-type", "application/grpc+proto"], ["te", "trailers"]);
    const timeout = getHeader(request.headers, "connect-timeout-ms");
    if (timeout !== undefined) headers.push(["grpc-timeout", connectTimeoutToGrpc(timeout)]);
    let envelope: Uint8Array;
    if (call.codec === "json") {
      method = jsonMethod(ctx.transcoder, call.path);
      const json = decompress(call.encoding, call.message, ctx.maxMessageBytes);
      envelope = encodeEnvelope(0, ctx.transcoder!.requestToBinary(method, json));
      // The adapter must read the response message: ask for it uncompressed.
      headers.push(["grpc-accept-encoding", "identity"]);
    } else {
      const compressed = !isIdentity(call.encoding);
      envelope = encodeEnvelope(compressed ? compressedFlag : 0, call.message);
      if (compressed) headers.push(["grpc-encoding", call.encoding!]);
      const accept = getHeader(request.headers, "accept-encoding");
      if (accept !== undefined) headers.push(["grpc-accept-encoding", accept]);
    }
    res = await upstream({ ...request, method: "POST", path: call.path, headers, body: firstError.watch(bodyOf(envelope)) });
  } catch (e) {
    if (request.signal.aborted) throw e;
    return connectUnaryError(firstError.or(e));
  }

  const head = classifyGrpcHead(res);
  if (head.kind === "http-error") return connectUnaryError(head.error);
  const headers = withoutHeaders(res.headers, grpcProtocolHeaders);
  if (head.kind === "trailers-only") {
    // Everything in a trailers-only head is a trailer.
    const error = head.error ?? new ConnectError("upstream sent no response message for a unary call", Code.Unimplemented);
    return connectUnaryError(error, trailerHeaders(headers));
  }

  let message: Uint8Array | undefined;
  let flags = 0;
  let trailers: HeaderList;
  try {
    for await (const env of transformSplitEnvelope(ctx.maxMessageBytes)(res.body)) {
      if (message !== undefined)
        throw new ConnectError("upstream sent more than one response message for a unary call", Code.Unimplemented);
      message = env.data;
      flags = env.flags;
    }
    trailers = res.trailers();
  } catch (e) {
    if (request.signal.aborted) throw e;
    return connectUnaryError(firstError.or(e), headers);
  }
  const error = statusError(trailers);
  const responseHeaders = [...headers, ...trailerHeaders(metadataOf(trailers))];
  if (error) return connectUnaryError(error, responseHeaders);
  if (message === undefined) {
    return connectUnaryError(new ConnectError("upstream sent no response message for a unary call", Code.Unimplemented), responseHeaders);
  }

  const encoding = getHeader(res.headers, "grpc-encoding");
  try {
    if (method) {
      message = ctx.transcoder!.responseToJson(method, envelopePayload(flags, message, encoding, ctx.maxMessageBytes));
    } else if ((flags & compressedFlag) !== 0) {
      if (isIdentity(encoding)) throw new ConnectError("upstream sent a compressed message without grpc-encoding", Code.Internal);
      responseHeaders.push(["content-encoding", encoding!]);
    }
  } catch (e) {
    return connectUnaryError(ConnectError.from(e), responseHeaders);
  }
  const accept = getHeader(res.headers, "grpc-accept-encoding");
  if (accept !== undefined && !method) responseHeaders.push(["accept-encoding", accept]);
  responseHeaders.push(["content-type", method ? "application/json" : "application/proto"]);
  return { status: 200, headers: responseHeaders, body: bodyOf(message), trailers: () => [] };
}

/** gRPC trailers as Connect unary `trailer-<name>` headers. */
function trailerHeaders(trailers: HeaderList): HeaderList {
  return trailers.map(([n, v]) => [`trailer-${n}`, v]);
}

/** A unary body read whole; past `maxBytes` (the message limit) it is `resource_exhausted`. */
async function readUnaryBody(body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Uint8Array> {
  try {
    return await readAllBytes(body, maxBytes);
  } catch (e) {
    const error = ConnectError.from(e);
    if (error.code !== Code.ResourceExhausted) throw error;
    throw new ConnectError(`message is larger than the gateway's limit of ${maxBytes} bytes (--max-message-bytes)`, Code.ResourceExhausted);
  }
}
