/**
 * Connect streaming to a pure gRPC upstream, as Vanguard does. Enveloped messages are
 * the same on both sides (flag 0x01 = compressed) and pass through untouched; the gRPC
 * trailers become Connect's end-stream message (flag 0x02, `{error?, metadata}`).
 */
import type { DescMethod } from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";
import type { HeaderList } from "../../protocol/index.js";
import type { ProtocolAdapter, ProxyRequest, ProxyResponse, Upstream } from "../exchange.js";
import { connectStreamError, endStreamMessage } from "./connect-errors.js";
import { parseConnectContentType } from "./connect-internals.js";
import type { AdapterContext } from "./context.js";
import { classifyGrpcHead, FirstError, metadataOf, statusError } from "./grpc-status.js";
import { contentType, getHeader, grpcProtocolHeaders, withoutHeaders } from "./headers.js";
import { jsonMethod, mapMessages } from "./messages.js";
import { connectTimeoutToGrpc } from "./timeout.js";

/** Connect request headers the gRPC side has no use for (or gets in gRPC form). */
export const connectRequestHeaders: readonly string[] = [
  "connect-protocol-version",
  "connect-timeout-ms",
  "connect-content-encoding",
  "connect-accept-encoding",
  "content-encoding",
  "accept-encoding",
  "content-type",
  "content-length",
  "te",
];

/** The Connect streaming adapter for a pure gRPC upstream. */
export function createConnectStreamAdapter(ctx: AdapterContext): ProtocolAdapter {
  return {
    name: "connect-stream",
    matches(request, upstreamProtocol) {
      return (
        upstreamProtocol === "grpc" && request.method === "POST" && parseConnectContentType(contentType(request.headers))?.stream === true
      );
    },
    handle(request, upstream) {
      return handle(ctx, request, upstream);
    },
  };
}

async function handle(ctx: AdapterContext, request: ProxyRequest, upstream: Upstream): Promise<ProxyResponse> {
  const clientType = contentType(request.headers);
  const json = clientType.endsWith("+json");
  const firstError = new FirstError();
  let method: DescMethod | undefined;
  let res: ProxyResponse;
  try {
    if (json) method = jsonMethod(ctx.transcoder, request.path);
    const headers: HeaderList = withoutHeaders(request.headers, connectRequestHeaders);
    headers.push(["content-type", "application/grpc+proto"], ["te", "trailers"]);
    const timeout = getHeader(request.headers, "connect-timeout-ms");
    if (timeout !== undefined) headers.push(["grpc-timeout", connectTimeoutToGrpc(timeout)]);
    const sendEncoding = getHeader(request.headers, "connect-content-encoding");
    let body = request.body;
    if (method) {
      const m = method;
      body = mapMessages(body, (j) => ctx.transcoder!.requestToBinary(m, j), sendEncoding, ctx.maxMessageBytes);
      // The adapter must read every response message: ask for them uncompressed.
      headers.push(["grpc-accept-encoding", "identity"]);
    } else {
      if (sendEncoding !== undefined) headers.push(["grpc-encoding", sendEncoding]);
      const accept = getHeader(request.headers, "connect-accept-encoding");
      if (accept !== undefined) headers.push(["grpc-accept-encoding", accept]);
    }
    res = await upstream({ ...request, headers, body: firstError.watch(body) });
  } catch (e) {
    if (request.signal.aborted) throw e;
    return connectStreamError(clientType, firstError.or(e));
  }

  const head = classifyGrpcHead(res);
  if (head.kind === "http-error") return connectStreamError(clientType, head.error);
  if (head.kind === "trailers-only") {
    // Everything in a trailers-only head is a trailer, so it all goes to the end-stream.
    return {
      status: 200,
      headers: [["content-type", clientType]],
      body: (async function* () {
        yield endStreamMessage(head.error, withoutHeaders(metadataOf(res.headers), grpcProtocolHeaders));
      })(),
      trailers: () => [],
      rpcStatus: () => String(head.error?.code ?? 0),
    };
  }
  const headers = withoutHeaders(res.headers, grpcProtocolHeaders);
  headers.push(["content-type", clientType]);
  const encoding = getHeader(res.headers, "grpc-encoding");
  const accept = getHeader(res.headers, "grpc-accept-encoding");
  let messages = res.body;
  if (method) {
    const m = method;
    messages = mapMessages(messages, (bin) => ctx.transcoder!.responseToJson(m, bin), encoding, ctx.maxMessageBytes);
  } else if (encoding !== undefined) {
    headers.push(["connect-content-encoding", encoding]);
  }
  if (accept !== undefined) headers.push(["connect-accept-encoding", accept]);
  const seen: { status?: string } = {};
  return {
    status: 200,
    headers,
    body: withEndStream(request, firstError, messages, res, seen),
    trailers: () => [],
    rpcStatus: () => seen.status,
  };
}

/** The upstream's messages, then the end-stream message from its trailers (or its failure). */
async function* withEndStream(
  request: ProxyRequest,
  firstError: FirstError,
  messages: AsyncIterable<Uint8Array>,
  res: ProxyResponse,
  seen: { status?: string },
): AsyncIterable<Uint8Array> {
  let error: ConnectError | undefined;
  let metadata: HeaderList = [];
  try {
    yield* messages;
    const trailers = res.trailers();
    error = statusError(trailers);
    metadata = metadataOf(trailers);
  } catch (e) {
    if (request.signal.aborted) throw e;
    error = firstError.or(e);
  }
  // Connect's codes are gRPC's, by number.
  seen.status = String(error?.code ?? 0);
  yield endStreamMessage(error, metadata);
}
