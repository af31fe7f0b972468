/**
 * Reading a gRPC upstream's answer: HTTP status, trailers-only heads, trailers, and
 * errors from any source turned into one `ConnectError` that each adapter then writes in
 * its client's protocol.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { HeaderList } from "../../protocol/index.js";
import { isGrpc } from "../content-type.js";
import { UpstreamError, type ProxyResponse } from "../exchange.js";
import { codeFromHttpStatus, codeFromString, findTrailerError, setTrailerStatus } from "./connect-internals.js";
import { contentType, fromFetchHeaders, getHeader, grpcStatusHeaders, toFetchHeaders, withoutHeaders } from "./headers.js";

/** How a gRPC upstream's response head reads. */
export type GrpcHead =
  /** Not a gRPC answer at all (HTTP error status or another content type). */
  | { kind: "http-error"; error: ConnectError }
  /** Status in the head and no body; `error` undefined means OK. */
  | { kind: "trailers-only"; error: ConnectError | undefined }
  /** A normal head: messages follow, then trailers. */
  | { kind: "stream" };

/** Classifies a gRPC upstream's response head. */
export function classifyGrpcHead(res: ProxyResponse): GrpcHead {
  if (res.status !== 200) {
    const message = getHeader(res.headers, "grpc-message");
    return {
      kind: "http-error",
      error: new ConnectError(
        message !== undefined ? safeDecode(message) : `upstream answered HTTP ${res.status}`,
        codeFromHttpStatus(res.status),
      ),
    };
  }
  if (getHeader(res.headers, "grpc-status") !== undefined) {
    return { kind: "trailers-only", error: statusError(res.headers) };
  }
  const type = contentType(res.headers);
  if (!isGrpc(type)) {
    return {
      kind: "http-error",
      error: new ConnectError(`upstream answered content-type "${type}", not gRPC; is it a gRPC server?`, Code.Unknown),
    };
  }
  return { kind: "stream" };
}

/** The error a gRPC status carries (undefined for OK). A missing status is an error too. */
export function statusError(trailers: HeaderList): ConnectError | undefined {
  if (getHeader(trailers, "grpc-status") === undefined) {
    return new ConnectError("upstream ended the response without a grpc-status trailer", Code.Internal);
  }
  try {
    return findTrailerError(toFetchHeaders(trailers));
  } catch (e) {
    return new ConnectError(`upstream sent an unreadable grpc-status-details-bin: ${String(e)}`, Code.Internal);
  }
}

/** Application metadata: everything but the gRPC status fields. */
export function metadataOf(trailers: HeaderList): HeaderList {
  return withoutHeaders(trailers, grpcStatusHeaders);
}

/** Any failure as a ConnectError: upstream transport failures keep their code. */
export function toConnectError(e: unknown): ConnectError {
  if (e instanceof UpstreamError) {
    return new ConnectError(e.message, codeFromString(e.code) ?? Code.Unavailable);
  }
  return ConnectError.from(e);
}

/** gRPC status fields (grpc-status, grpc-message, grpc-status-details-bin) for an error. */
export function grpcStatusFields(error: ConnectError | undefined): HeaderList {
  return fromFetchHeaders(setTrailerStatus(new Headers(), error));
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Remembers the first error a request body transform threw, so that the response can
 * report it (`invalid_argument: bad base64`) rather than the upstream's reaction to a
 * cut-off stream.
 */
export class FirstError {
  error: ConnectError | undefined;

  /** Wraps a body so that its first failure is kept. */
  watch(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    const self = this;
    return (async function* () {
      try {
        yield* body;
      } catch (e) {
        self.error ??= toConnectError(e);
        throw e;
      }
    })();
  }

  /** The kept error, else `e` as a ConnectError. */
  or(e: unknown): ConnectError {
    return this.error ?? toConnectError(e);
  }
}
