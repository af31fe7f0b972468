/**
 * The in-process upstream alone (server/upstream/in-process.ts): what a universal handler
 * receives and what comes back, with Connect-ES's real router and handlers.
 */
import { createConnectRouter } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { TestService } from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { EMPTY_BODY, bodyOf } from "../../server/body.js";
import type { ProxyRequest } from "../../server/exchange.js";
import { createInProcessUpstream, toUniversalRequest, unknownMethod } from "../../server/upstream/in-process.js";

const SERVICE = "swtunnel.test.v1.TestService";

function handlers() {
  const router = createConnectRouter();
  router.service(TestService, {
    unary: (req, ctx) => {
      ctx.responseHeader.append("set-cookie", "a=1");
      ctx.responseHeader.append("set-cookie", "b=2");
      ctx.responseTrailer.set("x-t", "t");
      return { text: `${req.text} ${ctx.requestHeader.get("x-who")} ${new URL(ctx.url).search}` };
    },
    fail: () => {
      throw new Error("plain failure");
    },
  });
  return router.handlers;
}

function request(path: string, body: Uint8Array, headers: Array<[string, string]> = []): ProxyRequest {
  return {
    method: "POST",
    path,
    headers: [["content-type", "application/json"], ...headers],
    body: bodyOf(body),
    signal: new AbortController().signal,
  };
}

async function text(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks).toString();
}

describe("createInProcessUpstream", () => {
  it("calls the handler with the request's headers, query and body; returns its status, headers and body", async () => {
    const upstream = createInProcessUpstream(handlers());
    const res = await upstream(request(`/${SERVICE}/Unary?x=1`, new TextEncoder().encode('{"text":"hi"}'), [["x-who", "me"]]));
    expect(res.status).toBe(200);
    expect(res.headers).toContainEqual(["content-type", "application/json"]);
    expect(res.headers.filter(([n]) => n === "set-cookie")).toEqual([
      ["set-cookie", "a=1"],
      ["set-cookie", "b=2"],
    ]);
    // Connect unary carries trailers as trailer- headers.
    expect(res.headers).toContainEqual(["trailer-x-t", "t"]);
    expect(JSON.parse(await text(res.body))).toEqual({ text: "hi me ?x=1" });
  });

  it("a handler throwing a plain Error: Connect's own answer (internal, message hidden, as connect-node does)", async () => {
    const res = await createInProcessUpstream(handlers())(request(`/${SERVICE}/Fail`, new TextEncoder().encode("{}")));
    expect(res.status).toBe(500);
    expect(JSON.parse(await text(res.body))).toEqual({ code: "internal", message: "internal error" });
  });

  it("an unknown path: unimplemented in the client's protocol", async () => {
    const res = await createInProcessUpstream(handlers())(request("/nope.v1.Svc/M", new Uint8Array(0)));
    expect(res.status).toBe(501);
    expect(JSON.parse(await text(res.body))).toEqual({
      code: "unimplemented",
      message: `no service nope.v1.Svc in this server; it serves ${SERVICE}`,
    });
  });

  it("two handlers for one path are refused", () => {
    const h = handlers();
    expect(() => createInProcessUpstream([...h, h[0]!])).toThrow(`two handlers for ${h[0]!.requestPath}; register each method once`);
  });
});

describe("unknownMethod", () => {
  const h = handlers();
  it("names a missing method and fixes a likely typo", () => {
    expect(unknownMethod(`/${SERVICE}/Unari`, h)).toBe(`no method Unari in service ${SERVICE}; did you mean Unary?`);
    expect(unknownMethod(`/${SERVICE}/Zzzzzz`, h)).toBe(`no method Zzzzzz in service ${SERVICE}`);
  });
  it("names a missing service", () => {
    expect(unknownMethod("/swtunnel.test.v1.TestServis/Unary", h)).toBe(
      `no service swtunnel.test.v1.TestServis in this server; did you mean ${SERVICE}?`,
    );
    expect(unknownMethod("/x", [])).toBe("no service x in this server; it serves no service");
  });
});

describe("toUniversalRequest", () => {
  it("keeps headers (no pseudo-headers), path and query, and the abort signal", () => {
    const ac = new AbortController();
    const u = toUniversalRequest({
      method: "POST",
      path: "/a.B/C?q=1",
      headers: [
        [":authority", "x"],
        ["grpc-timeout", "1S"],
      ],
      body: EMPTY_BODY,
      signal: ac.signal,
    });
    expect(u.httpVersion).toBe("2.0");
    expect(new URL(u.url).pathname + new URL(u.url).search).toBe("/a.B/C?q=1");
    expect([...u.header]).toEqual([["grpc-timeout", "1S"]]);
    ac.abort();
    expect(u.signal.aborted).toBe(true);
  });
});
