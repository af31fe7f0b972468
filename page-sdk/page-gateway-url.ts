/**
 * The gateway URL of a page's own tunnel socket (see page-socket-transport.ts), resolved
 * the way the worker resolves its gateways (sw/routes.ts), but against the page's URL:
 * relative URLs resolve against the document, http(s) becomes ws(s), and the default is
 * the page's origin + `/tunnel`. Pure.
 */

/** Path a gateway serves the tunnel on, unless configured otherwise (as sw/routes.ts). */
const DEFAULT_TUNNEL_PATH = "/tunnel";

/**
 * An absolute ws: or wss: URL for `gateway` (default `/tunnel`) seen from a page at
 * `pageUrl`. Throws a TypeError for another scheme, or for a relative URL without a page URL.
 */
export function resolvePageGatewayUrl(gateway: string | undefined, pageUrl: string | undefined): string {
  const given = gateway === undefined || gateway === "" ? DEFAULT_TUNNEL_PATH : gateway;
  let u: URL;
  try {
    u = new URL(given, pageUrl);
  } catch {
    throw new TypeError(
      `swtunnel: gateway ${JSON.stringify(given)} is not a URL${pageUrl ? "" : " (relative URLs need a page to resolve against)"}`,
    );
  }
  if (u.protocol === "http:") u.protocol = "ws:";
  else if (u.protocol === "https:") u.protocol = "wss:";
  if (u.protocol !== "ws:" && u.protocol !== "wss:") {
    throw new TypeError(`swtunnel: gateway ${JSON.stringify(given)} is not a ws:, wss:, http: or https: URL`);
  }
  return u.href;
}
