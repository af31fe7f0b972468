import { describe, expect, it } from "vitest";
import { resolveGatewayUrl } from "../../client/gateway-url.js";

describe("resolveGatewayUrl", () => {
  const page = "https://app.example/orders/list?x=1";

  it("defaults to the page's origin + /tunnel, wss for an https page", () => {
    expect(resolveGatewayUrl(undefined, page)).toBe("wss://app.example/tunnel");
    expect(resolveGatewayUrl("", "http://127.0.0.1:8080/")).toBe("ws://127.0.0.1:8080/tunnel");
  });

  it("resolves a relative URL against the page and turns http(s) into ws(s)", () => {
    expect(resolveGatewayUrl("/gw/tunnel", page)).toBe("wss://app.example/gw/tunnel");
    expect(resolveGatewayUrl("tunnel", page)).toBe("wss://app.example/orders/tunnel");
    expect(resolveGatewayUrl("http://gw.example:81/t", page)).toBe("ws://gw.example:81/t");
    expect(resolveGatewayUrl("https://gw.example/t", page)).toBe("wss://gw.example/t");
  });

  it("keeps ws: and wss: URLs as they are", () => {
    expect(resolveGatewayUrl("ws://127.0.0.1:9/tunnel", undefined)).toBe("ws://127.0.0.1:9/tunnel");
    expect(resolveGatewayUrl("wss://gw.example/tunnel", page)).toBe("wss://gw.example/tunnel");
  });

  it("rejects other schemes and relative URLs with no page, naming the URL", () => {
    expect(() => resolveGatewayUrl("ftp://gw.example/t", page)).toThrow(
      new TypeError('swtunnel: gateway "ftp://gw.example/t" is not a ws:, wss:, http: or https: URL'),
    );
    expect(() => resolveGatewayUrl("/tunnel", undefined)).toThrow(
      new TypeError('swtunnel: gateway "/tunnel" is not a URL (relative URLs need a base to resolve against)'),
    );
    expect(() => resolveGatewayUrl(undefined, undefined)).toThrow(TypeError);
  });
});
