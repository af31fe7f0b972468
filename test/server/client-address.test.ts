/** Unit tests of server/client-address.ts: which hop's word is believed. */
import { describe, expect, it } from "vitest";
import { forwardedHops, normalizeAddress, resolveClientAddress, trustList } from "../../server/client-address.js";

const trusted = trustList(["10.0.0.0/8", "::1", "fd00::/8"]);
const xff = { trusted, header: "x-forwarded-for" };

describe("resolveClientAddress", () => {
  it("without trusted proxies the TCP peer is the client, whatever the headers say", () => {
    expect(resolveClientAddress("203.0.113.7", "1.2.3.4", { trusted: undefined, header: "x-forwarded-for" })).toEqual({
      address: "203.0.113.7",
      chain: ["203.0.113.7"],
    });
  });

  it("an untrusted peer's header is ignored", () => {
    expect(resolveClientAddress("203.0.113.7", "10.1.1.1", xff).address).toBe("203.0.113.7");
  });

  it("walks X-Forwarded-For from the right while the hops are trusted", () => {
    // The client wrote "6.6.6.6"; the edge proxy 10.0.0.2 appended the real 198.51.100.1.
    expect(resolveClientAddress("10.0.0.1", "6.6.6.6, 198.51.100.1, 10.0.0.2", xff)).toEqual({
      address: "198.51.100.1",
      chain: ["198.51.100.1", "10.0.0.2", "10.0.0.1"],
    });
    // Several header lines count as one list, in order.
    expect(resolveClientAddress("10.0.0.1", ["6.6.6.6", "198.51.100.1"], xff).address).toBe("198.51.100.1");
  });

  it("stops at an entry that is not an address: the hop that wrote it is the best known", () => {
    expect(resolveClientAddress("10.0.0.1", "198.51.100.1, garbage", xff).address).toBe("10.0.0.1");
  });

  it("reads RFC 7239 Forwarded (quoted, bracketed IPv6 with port, other parameters)", () => {
    const policy = { trusted, header: "forwarded" };
    expect(resolveClientAddress("::1", 'for=6.6.6.6, for="[2001:db8::1]:4711";proto=https', policy).address).toBe("2001:db8::1");
    expect(resolveClientAddress("::1", "proto=https;for=192.0.2.60:8080", policy).address).toBe("192.0.2.60");
    expect(resolveClientAddress("::1", "for=unknown", policy).address).toBe("::1");
  });

  it("reads a one-address header such as CF-Connecting-IP", () => {
    const policy = { trusted, header: "cf-connecting-ip" };
    expect(resolveClientAddress("fd00::5", "2001:db8::9", policy)).toEqual({ address: "2001:db8::9", chain: ["2001:db8::9", "fd00::5"] });
    expect(resolveClientAddress("fd00::5", undefined, policy).address).toBe("fd00::5");
  });

  it("treats IPv4-mapped IPv6 peers as IPv4", () => {
    expect(normalizeAddress("::ffff:10.0.0.1")).toBe("10.0.0.1");
    expect(resolveClientAddress("::ffff:10.0.0.1", "198.51.100.1", xff).address).toBe("198.51.100.1");
  });
});

describe("trustList", () => {
  it("accepts addresses and CIDRs of both families", () => {
    const list = trustList(["127.0.0.1", "192.168.0.0/16", "::1/128"])!;
    expect(list.check("192.168.4.4", "ipv4")).toBe(true);
    expect(list.check("192.169.0.1", "ipv4")).toBe(false);
    expect(trustList([])).toBeUndefined();
  });

  it.each(["10.0.0.0/33", "nope", "10.0.0.0/", "1.2.3.4/8/9", "::1/129"])("refuses %j naming it", (entry) => {
    expect(() => trustList([entry])).toThrow(`trustProxy entry ${JSON.stringify(entry)} is not an address or CIDR`);
  });
});

describe("forwardedHops", () => {
  it("marks entries that are not addresses", () => {
    expect(forwardedHops("x-forwarded-for", "1.2.3.4, _hidden, [::1]:80")).toEqual(["1.2.3.4", undefined, "::1"]);
  });
});
