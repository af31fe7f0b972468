import { describe, expect, it } from "vitest";
import { corsContext, preflightResponse, responseHeaders, tunnelRequestHeaders } from "../../sw/headers.js";

describe("worker headers", () => {
  it("drops hop-by-hop and browser-only request headers, keeps the rest in order", () => {
    const h = new Headers({
      "content-type": "application/proto",
      "connect-protocol-version": "1",
      connection: "keep-alive",
      "accept-encoding": "gzip",
      "sec-fetch-mode": "cors",
      "content-length": "5",
      "x-echo-a": "1",
    });
    h.append("x-echo-a", "2");
    expect(tunnelRequestHeaders(h)).toEqual([
      ["connect-protocol-version", "1"],
      ["content-type", "application/proto"],
      ["x-echo-a", "1, 2"],
    ]);
  });

  it("keeps the page's W3C trace context (traceparent, tracestate) as it is", () => {
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const h = new Headers({ traceparent, tracestate: "congo=t61rcWkgMzE", "content-type": "application/proto" });
    expect(tunnelRequestHeaders(h)).toEqual([
      ["content-type", "application/proto"],
      ["traceparent", traceparent],
      ["tracestate", "congo=t61rcWkgMzE"],
    ]);
  });

  it("cross-origin responses expose every header to the page's origin", () => {
    const req = new Request("https://api.example/s/M", { method: "POST" });
    const cors = corsContext(req, new URL(req.url), "https://app.example");
    expect(cors).toEqual({ origin: "https://app.example", credentials: false });
    const h = responseHeaders(
      [
        ["content-type", "application/grpc-web+proto"],
        ["grpc-status", "0"],
        ["x-echo-a", "1"],
        ["transfer-encoding", "chunked"],
      ],
      cors,
    );
    expect(h.get("access-control-allow-origin")).toBe("https://app.example");
    expect(h.get("access-control-expose-headers")).toBe("content-type, grpc-status, x-echo-a");
    expect(h.get("transfer-encoding")).toBeNull();
    expect(corsContext(req, new URL(req.url), "https://api.example")).toBeUndefined();
  });

  it("answers a preflight locally with the asked method and headers", () => {
    const req = new Request("https://api.example/s/M", {
      method: "OPTIONS",
      headers: { "access-control-request-method": "POST", "access-control-request-headers": "content-type,connect-protocol-version" },
    });
    const res = preflightResponse(req, "https://app.example");
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-methods")).toBe("POST");
    expect(res.headers.get("access-control-allow-headers")).toBe("content-type,connect-protocol-version");
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
  });
});
