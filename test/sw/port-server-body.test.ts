/**
 * How the port server hands a page's request body to the tunnel client: complete in
 * `start` (unary and server-streaming calls) as one byte array, which the client sends as
 * HEADERS plus one DATA with END_STREAM and can replay after a GOAWAY; a body that goes on
 * in `data` messages as an iterable.
 */
import { describe, expect, it, vi } from "vitest";
import type { PortLike } from "../../port/port-like.js";
import { TunnelPool } from "../../sw/pool.js";
import { servePort } from "../../sw/port-server.js";
import { StatusHub } from "../../sw/status.js";
import { fakeClient, response } from "./fake-client.js";

function serve() {
  const client = fakeClient(() => response(200, [], [], [["grpc-status", "0"]]));
  const hub = new StatusHub();
  const toPage: Array<{ type: string; id?: number }> = [];
  let listener: ((event: MessageEvent) => void) | undefined;
  const port: PortLike = {
    postMessage: (m) => toPage.push(m as { type: string }),
    addEventListener: (_type, l) => (listener = l),
    close() {},
  };
  void servePort(port, {
    pool: new TunnelPool(() => client, hub),
    hub,
    workerUrl: "https://app.test/sw.js",
    defaultGateway: "wss://app.test/tunnel",
    lingerMs: 0,
  });
  const send = (data: unknown) => listener!({ data } as MessageEvent);
  const answered = (id: number) => vi.waitFor(() => expect(toPage.some((m) => m.id === id && m.type === "head")).toBe(true));
  return { client, send, answered };
}

const bytes = (...values: number[]) => new Uint8Array(values).buffer;

describe("port server request bodies", () => {
  it("passes a body complete in `start` as one byte array, its chunks joined in order", async () => {
    const { client, send, answered } = serve();
    send({ type: "start", id: 1, method: "POST", path: "/x", headers: [], hasBody: true, body: [bytes(1, 2), bytes(3)], end: true });
    send({ type: "start", id: 2, method: "POST", path: "/x", headers: [], hasBody: true, body: [], end: true });
    await answered(1);
    await answered(2);
    expect(client.calls[0]!.req.body).toEqual(new Uint8Array([1, 2, 3]));
    expect(client.calls[1]!.req.body).toEqual(new Uint8Array(0));
  });

  it("passes a body that goes on in `data` messages as an iterable of its chunks", async () => {
    const { client, send, answered } = serve();
    send({ type: "start", id: 1, method: "POST", path: "/x", headers: [], hasBody: true, body: [bytes(1)] });
    send({ type: "data", id: 1, bytes: bytes(2, 3) });
    send({ type: "end", id: 1 });
    await answered(1);
    expect(client.calls[0]!.req.body).not.toBeInstanceOf(Uint8Array);
    expect(client.calls[0]!.body).toEqual([new Uint8Array([1]), new Uint8Array([2, 3])]);
  });
});
