import { describe, expect, it } from "vitest";
import {
  defaultGatewayUrl,
  findPreflightRoute,
  findRoute,
  isNavigation,
  isRpcContentType,
  resolveGatewayUrl,
  resolveRoutes,
} from "../../sw/routes.js";

const W = "https://app.example/sw.js?x=1";

describe("routes", () => {
  it("default gateway is the worker's origin + /tunnel, ws or wss by scheme", () => {
    expect(defaultGatewayUrl(W)).toBe("wss://app.example/tunnel");
    expect(defaultGatewayUrl("http://127.0.0.1:8080/a/sw.js")).toBe("ws://127.0.0.1:8080/tunnel");
    expect(resolveGatewayUrl("https://gw.example/t", W)).toBe("wss://gw.example/t");
    expect(resolveGatewayUrl("/t2", W)).toBe("wss://app.example/t2");
    expect(() => resolveGatewayUrl("ftp://x/", W)).toThrow(/not a ws/);
  });

  it("matches URL prefixes of other origins, RegExps and predicates, in order", () => {
    const routes = resolveRoutes(
      [
        { match: "https://api.example/rpc/", gateway: "wss://gw1.example/tunnel" },
        { match: /\/other\.v1\./ },
        { match: (url) => url.pathname === "/fn" },
      ],
      W,
    );
    const r = (u: string) => findRoute(routes, new Request(u, { method: "POST" }));
    expect(r("https://api.example/rpc/a.B/C")?.gateway).toBe("wss://gw1.example/tunnel");
    expect(r("https://api.example/rpcx")).toBeUndefined();
    expect(r("https://app.example/other.v1.S/M")?.gateway).toBe("wss://app.example/tunnel");
    expect(r("https://app.example/fn")).toBeDefined();
    expect(r("https://app.example/index.html")).toBeUndefined();
  });

  it("a relative prefix resolves against the worker's origin", () => {
    const routes = resolveRoutes([{ match: "/api/" }], W);
    expect(findRoute(routes, new Request("https://app.example/api/x"))).toBeDefined();
    expect(findRoute(routes, new Request("https://other.example/api/x"))).toBeUndefined();
  });

  it("contentTypes 'connect' carries only RPC content types and Connect GET", () => {
    const routes = resolveRoutes([{ match: "https://api.example/", contentTypes: "connect" }], W);
    const post = (ct: string) =>
      findRoute(routes, new Request("https://api.example/s/M", { method: "POST", headers: { "content-type": ct } }));
    for (const ct of [
      "application/proto",
      "application/json",
      "application/connect+proto",
      "application/connect+json",
      "application/grpc-web+proto",
      "application/grpc-web-text",
      "application/grpc",
      "application/json; charset=utf-8",
    ]) {
      expect(post(ct), ct).toBeDefined();
    }
    expect(post("text/html")).toBeUndefined();
    expect(post("application/x-www-form-urlencoded")).toBeUndefined();
    expect(findRoute(routes, new Request("https://api.example/s/M?connect=v1&encoding=proto&message=AA"))).toBeDefined();
    expect(findRoute(routes, new Request("https://api.example/logo.png"))).toBeUndefined();
    // A preflight matches by prefix alone: it carries no content type.
    expect(findPreflightRoute(routes, new Request("https://api.example/s/M", { method: "OPTIONS" }))).toBeDefined();
  });

  it("never carries navigations or document loads, whatever the route (a cross-site link to a Connect GET URL)", () => {
    const routes = resolveRoutes([{ match: "https://api.example/", contentTypes: "any" }], W);
    const url = "https://api.example/pkg.Svc/Put?connect=v1&encoding=json&message=%7B%7D";
    // Request() cannot be built with mode "navigate" or a destination outside a worker; set them as a browser would.
    const as = (props: Partial<Record<"mode" | "destination", string>>) => {
      const r = new Request(url);
      for (const [k, v] of Object.entries(props)) Object.defineProperty(r, k, { value: v });
      return r;
    };
    expect(findRoute(routes, as({}))).toBeDefined(); // the same request from fetch(): carried
    expect(isNavigation(as({ mode: "navigate", destination: "document" }))).toBe(true);
    expect(findRoute(routes, as({ mode: "navigate", destination: "document" }))).toBeUndefined();
    for (const destination of ["document", "iframe", "frame", "embed", "object"]) {
      expect(findRoute(routes, as({ mode: "no-cors", destination })), destination).toBeUndefined();
    }
    expect(findRoute(routes, as({ mode: "cors", destination: "" }))).toBeDefined();
  });

  it("a string prefix matches whole path segments only", () => {
    const routes = resolveRoutes([{ match: "/api" }, { match: "https://rpc.example/v1/" }], W);
    const r = (u: string) => findRoute(routes, new Request(u, { method: "POST" }));
    for (const u of [
      "https://app.example/api",
      "https://app.example/api/",
      "https://app.example/api/s.S/M",
      "https://app.example/api?x=1",
    ]) {
      expect(r(u), u).toBeDefined();
    }
    for (const u of ["https://app.example/apiary/s.S/M", "https://app.example/api-admin/x", "https://app.example/ap"]) {
      expect(r(u), u).toBeUndefined();
    }
    expect(r("https://rpc.example/v1/s.S/M")).toBeDefined();
    expect(r("https://rpc.example/v1x/s.S/M")).toBeUndefined();
    expect(findPreflightRoute(routes, new Request("https://app.example/apiary/x", { method: "OPTIONS" }))).toBeUndefined();
  });

  it("never carries a navigation, even on a route that carries any content type", () => {
    const routes = resolveRoutes([{ match: "/", contentTypes: "any" }], W);
    const get = new Request("https://app.example/page");
    expect(findRoute(routes, get)).toBeDefined();
    // Node's Request cannot be built with mode "navigate"; the browser's is.
    const navigation = { url: get.url, method: "GET", headers: get.headers, mode: "navigate" } as unknown as Request;
    expect(findRoute(routes, navigation)).toBeUndefined();
  });

  it("rejects malformed routes with a clear message", () => {
    expect(() => resolveRoutes([], W)).toThrow(/at least one route/);
    expect(() => resolveRoutes([{ match: 42 as never }], W)).toThrow(/route 0: match must be/);
    expect(isRpcContentType(null)).toBe(false);
  });
});

import { parseEntryConfig } from "../../sw/entry-config.js";

describe("sw.js query string", () => {
  it("reads gateway, repeated match and fallback", () => {
    const c = parseEntryConfig(
      "https://app.example/sw.js?gateway=wss%3A%2F%2Fgw.example%2Ft&match=https%3A%2F%2Fa.example%2F&match=%2Fapi%2F&fallback=error",
    );
    expect(c.fallback).toBe("error");
    expect(c.routes).toEqual([
      { match: "https://a.example/", gateway: "wss://gw.example/t", contentTypes: "connect" },
      { match: "/api/", gateway: "wss://gw.example/t", contentTypes: "connect" },
    ]);
  });
  it("defaults: same-origin Connect calls, fallback network", () => {
    expect(parseEntryConfig("https://app.example/sw.js")).toEqual({
      routes: [{ match: "https://app.example/", gateway: undefined, contentTypes: "connect" }],
      fallback: "network",
    });
    expect(() => parseEntryConfig("https://app.example/sw.js?fallback=x")).toThrow(/fallback=x/);
  });
});
