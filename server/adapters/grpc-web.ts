/**
 * gRPC-Web to a pure gRPC upstream, as Envoy's grpc_web filter does: the request becomes
 * gRPC (content type, `te: trailers`, base64 decoded in text mode); the response's
 * trailers are appended to the body as a frame with flag 0x80, and text mode is base64
 * encoded. Messages pass through untouched except for JSON, which is transcoded.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";
import type { HeaderList } from "../../protocol/index.js";
import { EMPTY_BODY } from "../body.js";
import type { ProtocolAdapter, ProxyRequest, ProxyResponse, Upstream } from "../exchange.js";
import { decodeBase64Stream, encodeBase64Stream } from "./base64.js";
import { encodeEnvelope, parseGrpcWebContentType, trailerFlag, trailerSerialize } from "./connect-internals.js";
import type { AdapterContext } from "./context.js";
import { classifyGrpcHead, FirstError, grpcStatusFields, statusError } from "./grpc-status.js";
import { contentType, getHeader, toFetchHeaders, withHeader, withoutHeaders } from "./headers.js";
import { jsonMethod, mapMessages } from "./messages.js";

/** The gRPC-Web flavour of a content type this adapter translates (proto or json), else undefined. */
export function parseGrpcWebType(type: string): { text: boolean; codec: "proto" | "json" } | undefined {
  const parsed = parseGrpcWebContentType(type);
  return parsed && { text: parsed.text, codec: parsed.binary ? "proto" : "json" };
}

/** The gRPC-Web adapter for a pure gRPC upstream. */
export function createGrpcWebAdapter(ctx: AdapterContext): ProtocolAdapter {
  return {
    name: "grpc-web",
    matches(request, upstreamProtocol) {
      return upstreamProtocol === "grpc" && request.method === "POST" && parseGrpcWebType(contentType(request.headers)) !== undefined;
    },
    handle(request, upstream) {
      return handle(ctx, request, upstream);
    },
  };
}

async function handle(ctx: AdapterContext, request: ProxyRequest, upstream: Upstream): Promise<ProxyResponse> {
  const clientType = getHeader(request.headers, "content-type")!;
  const { text, codec } = parseGrpcWebType(contentType(request.headers))!;
  const firstError = new FirstError();
  let method: DescMethod | undefined;
  let res: ProxyResponse;
  try {
    if (codec === "json") method = jsonMethod(ctx.transcoder, request.path);
    let body = request.body;
    if (text) body = decodeBase64Stream(body);
    let headers = withoutHeaders(request.headers, ["x-grpc-web", "content-length", "te"]);
    headers.push(["te", "trailers"]);
    if (method) {
      const m = method;
      body = mapMessages(
        body,
        (json) => ctx.transcoder!.requestToBinary(m, json),
        getHeader(request.headers, "grpc-encoding"),
        ctx.maxMessageBytes,
      );
      headers = withoutHeaders(headers, ["grpc-encoding"]);
      // The adapter must read every response message: ask for them uncompressed.
      headers = withHeader(headers, "grpc-accept-encoding", "identity");
    }
    headers = withHeader(
      headers,
      "content-type",
      codec === "proto" && !contentType(request.headers).endsWith("+proto") ? "application/grpc" : "application/grpc+proto",
    );
    res = await upstream({ ...request, headers, body: firstError.watch(body) });
  } catch (e) {
    if (request.signal.aborted) throw e;
    return trailersOnly(clientType, firstError.or(e));
  }

  const head = classifyGrpcHead(res);
  if (head.kind === "http-error") return trailersOnly(clientType, head.error);
  let headers = withHeader(withoutHeaders(res.headers, ["content-length"]), "content-type", clientType);
  if (method) headers = withoutHeaders(headers, ["grpc-encoding"]);
  if (head.kind === "trailers-only") {
    return { status: 200, headers, body: EMPTY_BODY, trailers: () => [] };
  }
  let messages = res.body;
  if (method) {
    const m = method;
    messages = mapMessages(
      messages,
      (bin) => ctx.transcoder!.responseToJson(m, bin),
      getHeader(res.headers, "grpc-encoding"),
      ctx.maxMessageBytes,
    );
  }
  const seen: { status?: string } = {};
  const body = withTrailerFrame(request, firstError, messages, res, seen);
  return { status: 200, headers, body: text ? encodeBase64Stream(body) : body, trailers: () => [], rpcStatus: () => seen.status };
}

/** The upstream's messages, then its trailers (or the failure that cut it short) as a 0x80 frame. */
async function* withTrailerFrame(
  request: ProxyRequest,
  firstError: FirstError,
  messages: AsyncIterable<Uint8Array>,
  res: ProxyResponse,
  seen: { status?: string },
): AsyncIterable<Uint8Array> {
  let trailers: HeaderList;
  try {
    yield* messages;
    trailers = res.trailers();
    // A gRPC stream always ends with a status; say so rather than leave the client guessing.
    if (getHeader(trailers, "grpc-status") === undefined) trailers = [...trailers, ...grpcStatusFields(statusError(trailers))];
  } catch (e) {
    if (request.signal.aborted) throw e;
    trailers = grpcStatusFields(firstError.or(e));
  }
  seen.status = getHeader(trailers, "grpc-status");
  yield trailerFrame(trailers);
}

/** A gRPC-Web trailer frame: flag 0x80, `name: value\r\n` lines with lowercase names. */
export function trailerFrame(trailers: HeaderList): Uint8Array {
  return encodeEnvelope(trailerFlag, trailerSerialize(toFetchHeaders(trailers)));
}

/** A trailers-only gRPC-Web answer carrying `error` (HTTP 200, status in the head). */
export function trailersOnly(clientType: string, error: ConnectError | undefined): ProxyResponse {
  return {
    status: 200,
    headers: [["content-type", clientType], ...grpcStatusFields(error)],
    body: EMPTY_BODY,
    trailers: () => [],
  };
}
