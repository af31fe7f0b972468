import { describe, expect, it } from "vitest";
import { resolvePageGatewayUrl } from "../../page-sdk/page-gateway-url.js";

describe("resolvePageGatewayUrl", () => {
  const page = "https://app.example/orders/list?x=1";

  it("defaults to the page's origin + /tunnel, wss for an https page", () => {
    expect(resolvePageGatewayUrl(undefined, page)).toBe("wss://app.example/tunnel");
    expect(resolvePageGatewayUrl("", "http://127.0.0.1:8080/")).toBe("ws://127.0.0.1:8080/tunnel");
  });

  it("resolves a relative URL against the page and turns http(s) into ws(s)", () => {
    expect(resolvePageGatewayUrl("/gw/tunnel", page)).toBe("wss://app.example/gw/tunnel");
    expect(resolvePageGatewayUrl("tunnel", page)).toBe("wss://app.example/orders/tunnel");
    expect(resolvePageGatewayUrl("http://gw.example:81/t", page)).toBe("ws://gw.example:81/t");
    expect(resolvePageGatewayUrl("https://gw.example/t", page)).toBe("wss://gw.example/t");
  });

  it("keeps ws: and wss: URLs as they are", () => {
    expect(resolvePageGatewayUrl("ws://127.0.0.1:9/tunnel", undefined)).toBe("ws://127.0.0.1:9/tunnel");
    expect(resolvePageGatewayUrl("wss://gw.example/tunnel", page)).toBe("wss://gw.example/tunnel");
  });

  it("rejects other schemes and relative URLs with no page, naming the URL", () => {
    expect(() => resolvePageGatewayUrl("ftp://gw.example/t", page)).toThrow(
      new TypeError('swtunnel: gateway "ftp://gw.example/t" is not a ws:, wss:, http: or https: URL'),
    );
    expect(() => resolvePageGatewayUrl("/tunnel", undefined)).toThrow(
      new TypeError('swtunnel: gateway "/tunnel" is not a URL (relative URLs need a page to resolve against)'),
    );
    expect(() => resolvePageGatewayUrl(undefined, undefined)).toThrow(TypeError);
  });
});
