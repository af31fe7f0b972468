/**
 * Connect unary answers through the worker's fetch path: the page gets the body whole
 * (a bytes Response, not a stream the page reads chunk by chunk across the worker
 * boundary), and a body that fails midway becomes a Connect error response.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { FetchHandler } from "../../sw/fetch-handler.js";
import { TunnelPool } from "../../sw/pool.js";
import { resolveRoutes } from "../../sw/routes.js";
import { StatusHub } from "../../sw/status.js";
import type { TunnelCallResponse } from "../../sw/types.js";
import { fakeClient, response } from "./fake-client.js";

function handler(answer: () => TunnelCallResponse) {
  const hub = new StatusHub(() => {});
  const client = fakeClient(answer);
  const fetchHandler = new FetchHandler({
    routes: resolveRoutes([{ match: "https://api.example/" }], "https://app.example/sw.js"),
    fallback: "error",
    pageOrigin: "https://app.example",
    pool: new TunnelPool(() => client, hub),
    hub,
    fetch: () => Promise.reject(new Error("no network in this test")),
  });
  return (contentType: string) =>
    fetchHandler.handle(
      new Request("https://api.example/a.B/C", { method: "POST", body: new Uint8Array([1]), headers: { "content-type": contentType } }),
    )!;
}

describe("FetchHandler, Connect unary", () => {
  it("answers with the whole body at once: the Response's stream is complete when the page gets it", async () => {
    const call = handler(() => response(200, [["content-type", "application/proto"]], [new Uint8Array([1, 2]), new Uint8Array([3])]));
    const res = await call("application/proto");
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.value).toEqual(new Uint8Array([1, 2, 3]));
    expect((await reader.read()).done).toBe(true);
  });

  it("turns a body that fails midway into a Connect error response with the failure's code", async () => {
    const failure = new ConnectError("the tunnel socket went away", Code.Unavailable);
    const call = handler(() => response(200, [["content-type", "application/proto"]], [new Uint8Array([1])], [], { failAfter: failure }));
    const res = await call("application/proto");
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: "unavailable" });
  });

  it("still streams a Connect streaming answer chunk by chunk", async () => {
    const call = handler(() =>
      response(200, [["content-type", "application/connect+proto"]], [new Uint8Array([1, 2]), new Uint8Array([3])]),
    );
    const reader = (await call("application/connect+proto")).body!.getReader();
    expect((await reader.read()).value).toEqual(new Uint8Array([1, 2]));
    expect((await reader.read()).value).toEqual(new Uint8Array([3]));
  });
});
