/** Small header-list helpers the adapters share. */
import type { HeaderList } from "../../protocol/index.js";
import { mediaType } from "../content-type.js";

/** The first value of `name`, or undefined. */
export function getHeader(headers: HeaderList, name: string): string | undefined {
  for (const [n, v] of headers) if (n === name) return v;
  return undefined;
}

/** The request's media type, lowercased, without parameters ("" when absent). */
export function contentType(headers: HeaderList): string {
  return mediaType(getHeader(headers, "content-type"));
}

/** A copy of `headers` without the named entries. */
export function withoutHeaders(headers: HeaderList, names: Iterable<string>): HeaderList {
  const drop = new Set(names);
  return headers.filter(([n]) => !drop.has(n));
}

/** A copy of `headers` with `name` set to `value` (replacing any earlier values). */
export function withHeader(headers: HeaderList, name: string, value: string): HeaderList {
  return [...headers.filter(([n]) => n !== name), [name, value]];
}

/** Converts to a fetch `Headers` (names lowercased, repeated names joined). */
export function toFetchHeaders(headers: HeaderList): Headers {
  const h = new Headers();
  for (const [n, v] of headers) h.append(n, v);
  return h;
}

/** Converts a fetch `Headers` back to a header list. */
export function fromFetchHeaders(headers: Headers): HeaderList {
  const list: HeaderList = [];
  headers.forEach((v, n) => list.push([n, v]));
  return list;
}

/** Headers that describe a gRPC exchange itself rather than application metadata. */
export const grpcProtocolHeaders: readonly string[] = [
  "content-type",
  "content-length",
  "content-encoding",
  "accept-encoding",
  "te",
  "trailer",
  "grpc-encoding",
  "grpc-accept-encoding",
  "grpc-timeout",
  "grpc-status",
  "grpc-message",
  "grpc-status-details-bin",
];

/** The status fields of a gRPC trailer (or a trailers-only head). */
export const grpcStatusHeaders: readonly string[] = ["grpc-status", "grpc-message", "grpc-status-details-bin"];
