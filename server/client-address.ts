/**
 * The client address of a tunnel socket: the TCP peer, unless the peer is a trusted proxy
 * (`trustProxy`), in which case the address its forwarding header names. Only hops the
 * operator trusts are believed: walking the header from the right, the first address that
 * is not a trusted proxy is the client. Pure; no I/O.
 */
import { BlockList, isIP } from "node:net";

/** What the gateway believes about one upgrade request's origin. */
export interface ClientAddress {
  /** The address limits, logs and metrics use. */
  address: string;
  /** Client first, then every trusted hop up to the TCP peer: the gateway's `x-forwarded-for` toward the backend. */
  chain: string[];
}

/** Trusted proxies and the header they name the client in. */
export interface ClientAddressPolicy {
  /** Trusted proxy addresses; undefined or empty = trust no one (the peer is the client). */
  trusted: BlockList | undefined;
  /** Lowercase header name: `x-forwarded-for`, `forwarded`, or a one-address header such as `cf-connecting-ip`. */
  header: string;
}

/** `::ffff:1.2.3.4` as `1.2.3.4`, so IPv4 rules match dual-stack sockets. */
export function normalizeAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return (m ? m[1]! : address).toLowerCase();
}

/**
 * Parses `trustProxy` entries (`10.0.0.0/8`, `127.0.0.1`, `::1`, `fd00::/8`); throws an
 * Error naming the first bad entry.
 */
export function trustList(entries: readonly string[]): BlockList | undefined {
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of entries) {
    const [addr = "", prefix, extra] = entry.trim().split("/");
    const family = isIP(addr);
    const bits = prefix === undefined ? (family === 6 ? 128 : 32) : Number(prefix);
    const max = family === 6 ? 128 : 32;
    if (family === 0 || extra !== undefined || !Number.isInteger(bits) || bits < 0 || bits > max || prefix === "") {
      throw new Error(`trustProxy entry ${JSON.stringify(entry)} is not an address or CIDR such as 10.0.0.0/8 or fd00::/8`);
    }
    list.addSubnet(addr, bits, family === 6 ? "ipv6" : "ipv4");
  }
  return list;
}

function trusts(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? "ipv6" : "ipv4");
}

/** One address from a header entry: strips quotes, `[v6]` brackets and ports; undefined when not an IP. */
export function parseHop(raw: string): string | undefined {
  let s = raw.trim().replace(/^"(.*)"$/, "$1");
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracket) s = bracket[1]!;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(s)) s = s.slice(0, s.lastIndexOf(":"));
  return isIP(s) !== 0 ? normalizeAddress(s) : undefined;
}

/** The addresses a forwarding header lists, left (farthest) to right (nearest); undefined for an entry that is not an IP. */
export function forwardedHops(header: string, value: string): Array<string | undefined> {
  if (header === "forwarded") {
    // RFC 7239: `for=192.0.2.60;proto=http, for="[2001:db8::1]:4711"`; only `for` names a client.
    return value.split(",").map((element) => {
      const pair = element
        .split(";")
        .map((p) => p.trim())
        .find((p) => p.toLowerCase().startsWith("for="));
      return pair === undefined ? undefined : parseHop(pair.slice(4));
    });
  }
  if (header === "x-forwarded-for") return value.split(",").map(parseHop);
  return [parseHop(value)]; // a one-address header (CF-Connecting-IP, X-Real-IP, True-Client-IP)
}

/** The client address of a request from TCP peer `peer` with header value(s) `value`. */
export function resolveClientAddress(
  peer: string,
  value: string | readonly string[] | undefined,
  policy: ClientAddressPolicy,
): ClientAddress {
  const nearest = normalizeAddress(peer);
  const chain = [nearest];
  if (!policy.trusted || !trusts(policy.trusted, nearest) || value === undefined) return { address: nearest, chain };
  const joined = typeof value === "string" ? value : value.join(", ");
  const hops = forwardedHops(policy.header, joined);
  // From the nearest hop outwards, believe each entry only while the one who wrote it is trusted.
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i];
    if (hop === undefined) break; // garbage from a trusted hop: the hop itself is the best we know
    chain.unshift(hop);
    if (!trusts(policy.trusted, hop)) break;
  }
  return { address: chain[0]!, chain };
}
