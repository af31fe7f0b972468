/**
 * The metadata echo rule both backends follow: every request header whose name starts
 * with "x-echo-" comes back as a response header with the same name and values, and as a
 * trailer whose name has "-t" inserted before any "-bin" suffix. Pure; the servers map
 * their own metadata types onto it.
 */

/** Request headers with this prefix are echoed. */
export const echoHeaderPrefix = "x-echo-";

/** True if a request header with this (lower-case) name is echoed. */
export function isEchoHeader(name: string): boolean {
  return name.toLowerCase().startsWith(echoHeaderPrefix);
}

/** The trailer name for an echoed header: "x-echo-a" -> "x-echo-a-t", "x-echo-d-bin" -> "x-echo-d-t-bin". */
export function echoTrailerName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith("-bin") ? `${lower.slice(0, -"-bin".length)}-t-bin` : `${lower}-t`;
}
