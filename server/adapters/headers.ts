/** Small header-list helpers the adapters share. */
import type { HeaderList } from "../../protocol/index.js";

/** The first value of `name`, or undefined. */
export function getHeader(headers: HeaderList, name: string): string | undefined {
  for (const [n, v] of headers) if (n === name) return v;
  return undefined;
}

/** The request's media type, lowercased, without parameters ("" when absent). */
export function contentType(headers: HeaderList): string {
  return (getHeader(headers, "content-type") ?? "").split(";")[0]!.trim().toLowerCase();
}
