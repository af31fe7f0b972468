/**
 * Gateway URLs as the worker and the page SDK take them: relative to the script (the
 * worker's URL, the page's document), http(s) written for ws(s), and by default the same
 * origin + `/tunnel`. Pure.
 */

/** Path a gateway serves the tunnel on, unless configured otherwise. */
export const DEFAULT_TUNNEL_PATH = "/tunnel";

/**
 * An absolute ws: or wss: URL for `gateway` (default {@link DEFAULT_TUNNEL_PATH}) seen
 * from `baseUrl`. Throws a TypeError for another scheme, or for a relative URL without a base.
 */
export function resolveGatewayUrl(gateway: string | undefined, baseUrl: string | undefined): string {
  const given = gateway === undefined || gateway === "" ? DEFAULT_TUNNEL_PATH : gateway;
  let u: URL;
  try {
    u = new URL(given, baseUrl);
  } catch {
    throw new TypeError(
      `swtunnel: gateway ${JSON.stringify(given)} is not a URL${baseUrl ? "" : " (relative URLs need a base to resolve against)"}`,
    );
  }
  if (u.protocol === "http:") u.protocol = "ws:";
  else if (u.protocol === "https:") u.protocol = "wss:";
  if (u.protocol !== "ws:" && u.protocol !== "wss:") {
    throw new TypeError(`swtunnel: gateway ${JSON.stringify(given)} is not a ws:, wss:, http: or https: URL`);
  }
  return u.href;
}
