/**
 * Unit tests of the tunnel client (sw/) against an in-test gateway double: a real `ws`
 * server speaking the real codec.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WebSocket } from "ws";
import { ErrorCode, type Frame } from "../../protocol/index.js";
import { createTunnelClient, type TunnelClientOptions } from "../../client/index.js";
import { MAX_REPLAY_BYTES } from "../../client/replay.js";
import { concat, pattern, readAll, startDouble, type DoubleOptions, type DoubleStream } from "./gateway-double.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function setup(options: DoubleOptions = {}, clientOptions: Partial<TunnelClientOptions> = {}) {
  const gw = await startDouble(options);
  cleanups.push(() => gw.close());
  const client = createTunnelClient({ url: gw.url, WebSocket, ...clientOptions });
  cleanups.push(() => client.close());
  return { gw, client };
}

/** Echo: response head at once, then the request body back, then trailers. */
function echo(stream: DoubleStream): void {
  void (async () => {
    stream.respond(200, [
      ["content-type", "application/test"],
      ["x-path", stream.path],
    ]);
    const body = await stream.requestEnd();
    if (stream.reset) return;
    await stream.write(body);
    stream.trailers([
      ["x-status", "ok"],
      ["x-len", String(body.length)],
    ]);
  })();
}

async function expectConnectError(p: Promise<unknown>, code: Code): Promise<ConnectError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "expected a ConnectError").toBeInstanceOf(ConnectError);
  expect(Code[(err as ConnectError).code], (err as ConnectError).message).toBe(Code[code]);
  return err as ConnectError;
}

const kinds = (frames: Array<{ frame: Frame }>) => frames.map((r) => r.frame.kind);

describe("handshake", () => {
  it("offers swtunnel.v1, sends SETTINGS first, and opens no stream before the gateway's SETTINGS", async () => {
    const { gw, client } = await setup({ settingsDelayMs: 150, onStream: echo });
    const statuses: string[] = [];
    const c2 = createTunnelClient({ url: gw.url, WebSocket, onStatus: (s) => statuses.push(s) });
    cleanups.push(() => c2.close());
    expect(gw.connections).toHaveLength(0); // lazy: nothing before the first call
    const res = await client.request({ method: "POST", path: "/a.B/C", headers: [["x-a", "1"]], body: new Uint8Array([1, 2, 3]) });
    const conn = gw.connections[0]!;
    expect(conn.protocol).toBe("swtunnel.v1");
    expect(conn.received[0]!.frame.kind).toBe("settings");
    const settingsSent = conn.sentLog.find((r) => r.frame.kind === "settings")!.seq;
    const headers = conn.received.find((r) => r.frame.kind === "request-headers")!;
    expect(headers.seq).toBeGreaterThan(settingsSent);
    expect(res.status).toBe(200);
    expect(res.headers).toContainEqual(["x-path", "/a.B/C"]);
    expect([...(await readAll(res.body))]).toEqual([1, 2, 3]);
    expect(res.trailers()).toEqual([
      ["x-status", "ok"],
      ["x-len", "3"],
    ]);
    expect(conn.streams.get(1)!.header("x-a")).toBe("1");

    expect(c2.status).toBe("connecting");
    await readAll((await c2.request({ method: "POST", path: "/x", headers: [] })).body);
    expect(statuses).toEqual(["connected"]);
    expect(c2.status).toBe("connected");
  });

  it("sends a bodiless request as HEADERS with END_STREAM and the client's windows in SETTINGS", async () => {
    const { gw, client } = await setup({ onStream: echo }, { streamWindow: 70_000, connectionWindow: 300_000 });
    const res = await client.request({ method: "GET", path: "/q?x=1", headers: new Headers({ "X-Mixed": "v" }) });
    expect((await readAll(res.body)).length).toBe(0);
    const conn = gw.connections[0]!;
    expect(conn.clientSettings.initialStreamWindow).toBe(70_000);
    expect(conn.clientSettings.initialConnectionWindow).toBe(300_000);
    const h = conn.received.find((r) => r.frame.kind === "request-headers")!.frame;
    expect(h).toMatchObject({ kind: "request-headers", endStream: true, method: "GET", path: "/q?x=1", headers: [["x-mixed", "v"]] });
    expect(kinds(conn.received).filter((k) => k === "data")).toHaveLength(0);
  });

  it("rejects an invalid request with invalid_argument without using a stream id", async () => {
    const { gw, client } = await setup({ onStream: echo });
    await expectConnectError(client.request({ method: "POST", path: "no-slash", headers: [] }), Code.InvalidArgument);
    await expectConnectError(client.request({ method: "POST", path: "/a", headers: [["bad name", "x"]] }), Code.InvalidArgument);
    await readAll((await client.request({ method: "POST", path: "/ok", headers: [] })).body);
    expect(gw.connections[0]!.streams.has(1)).toBe(true);
  });
});

describe("multiplexing", () => {
  it("runs 100 concurrent calls over one socket with ids 1..100", async () => {
    const { gw, client } = await setup({ onStream: echo });
    const results = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const body = pattern(1000 + i, i + 1);
        const res = await client.request({ method: "POST", path: `/m/${i}`, headers: [], body });
        const got = await readAll(res.body);
        return Buffer.from(got).equals(Buffer.from(body)) && res.trailers()[1]![1] === String(body.length);
      }),
    );
    expect(results.filter(Boolean)).toHaveLength(100);
    expect(gw.connections).toHaveLength(1);
    expect([...gw.connections[0]!.streams.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(client.stats()).toMatchObject({ streamsOpen: 0, streamsQueued: 0, sockets: 1, callsStarted: 100, reconnects: 0 });
  });
});

describe("flow control", () => {
  it("cuts a large request body to the gateway's frame size and never exceeds its windows", async () => {
    const streams: DoubleStream[] = [];
    const { gw, client } = await setup({
      autoCredit: false,
      settings: { maxFramePayload: 16 << 10, initialStreamWindow: 40_000, initialConnectionWindow: 100_000 },
      onStream: (s) => {
        streams.push(s);
        s.respond(200);
        // A slow reader: grant credit 10 000 bytes at a time once the window is used up.
        void (async () => {
          let granted = 40_000;
          while (!s.requestEnded) {
            await s.until(() => s.requestEnded || s.received >= granted);
            if (s.requestEnded) break;
            s.grant(10_000);
            granted += 10_000;
          }
          s.trailers([]);
        })();
      },
    });
    const body = pattern(1_000_000, 7);
    const res = await client.request({ method: "POST", path: "/up", headers: [], body });
    await readAll(res.body);
    const s = streams[0]!;
    expect(s.overrun).toBe(0);
    expect(Buffer.from(concat(s.chunks)).equals(Buffer.from(body))).toBe(true);
    const data = gw.connections[0]!.received.filter((r) => r.frame.kind === "data").map(
      (r) => (r.frame as { data: Uint8Array }).data.length,
    );
    expect(Math.max(...data)).toBeLessThanOrEqual(16 << 10);
    expect(data.reduce((a, b) => a + b, 0)).toBe(1_000_000);
  });

  it("a slow consumer makes the gateway stop; reading grants credit again", async () => {
    let stream!: DoubleStream;
    const total = 2_000_000;
    const { client } = await setup(
      {
        onStream: (s) => {
          stream = s;
          s.respond(200);
          void s.write(pattern(total, 3)).then(() => s.trailers([["done", "1"]]));
        },
      },
      { streamWindow: 64 << 10, connectionWindow: 1 << 20 },
    );
    const res = await client.request({ method: "GET", path: "/down", headers: [] });
    await stream.until(() => stream.blocked);
    expect(stream.sent).toBe(64 << 10); // exactly the window, nothing more
    const got = await readAll(res.body);
    expect(got.length).toBe(total);
    expect(Buffer.from(got).equals(Buffer.from(pattern(total, 3)))).toBe(true);
    expect(res.trailers()).toEqual([["done", "1"]]);
  });
});

describe("resets and errors", () => {
  const table: Array<[number, Code]> = [
    [ErrorCode.REFUSED_STREAM, Code.Unavailable],
    [ErrorCode.UPSTREAM_UNAVAILABLE, Code.Unavailable],
    [ErrorCode.CANCEL, Code.Canceled],
    [ErrorCode.FORBIDDEN, Code.PermissionDenied],
    [ErrorCode.MESSAGE_TOO_LARGE, Code.ResourceExhausted],
    [ErrorCode.HEADER_BLOCK_TOO_LARGE, Code.ResourceExhausted],
    [ErrorCode.ENHANCE_YOUR_CALM, Code.ResourceExhausted],
    [ErrorCode.INTERNAL_ERROR, Code.Internal],
    [ErrorCode.PROTOCOL_ERROR, Code.Internal],
    [0x42, Code.Internal],
  ];

  it("maps RST_STREAM codes to Connect codes with the gateway's message, before and after the head", async () => {
    const { client } = await setup({
      onStream: (s) => {
        const [code, when] = s.path.slice(1).split("/");
        if (when === "after") {
          s.respond(200);
          void s.write(new Uint8Array(10)).then(() => s.rst(Number(code), `reset ${code}`));
        } else s.rst(Number(code), `reset ${code}`);
      },
    });
    for (const [code, connectCode] of table) {
      const before = await expectConnectError(client.request({ method: "POST", path: `/${code}/before`, headers: [] }), connectCode);
      expect(before.rawMessage).toBe(`reset ${code}`);
      const res = await client.request({ method: "POST", path: `/${code}/after`, headers: [] });
      const after = await expectConnectError(readAll(res.body), connectCode);
      expect(after.rawMessage).toBe(`reset ${code}`);
    }
    expect(client.stats().streamsOpen).toBe(0);
  });

  it("answers a gateway protocol violation with GOAWAY PROTOCOL_ERROR and fails the calls", async () => {
    const { gw, client } = await setup({
      onStream: (s, conn) => {
        s.respond(200);
        conn.send({ kind: "data", streamId: 99, endStream: false, data: new Uint8Array(1) });
      },
    });
    const res = await client.request({ method: "POST", path: "/x", headers: [] });
    await expectConnectError(readAll(res.body), Code.Internal);
    const conn = gw.connections[0]!;
    const goaway = await conn.frame((f) => f.kind === "goaway");
    expect(goaway).toMatchObject({ kind: "goaway", code: ErrorCode.PROTOCOL_ERROR });
    await conn.until(() => conn.closed);
  });

  it("ignores frames for streams that already ended", async () => {
    const { gw, client } = await setup({
      onStream: (s, conn) => {
        s.respond(200);
        s.trailers([]);
        if (s.id === 1) {
          conn.send({ kind: "data", streamId: 1, endStream: false, data: new Uint8Array(5) });
          conn.send({ kind: "rst", streamId: 1, code: ErrorCode.CANCEL, message: "late" });
        }
      },
    });
    await readAll((await client.request({ method: "POST", path: "/a", headers: [] })).body);
    await readAll((await client.request({ method: "POST", path: "/b", headers: [] })).body);
    expect(kinds(gw.connections[0]!.received)).not.toContain("goaway");
    expect(gw.connections).toHaveLength(1);
  });
});

describe("cancel", () => {
  it("an aborted signal sends RST_STREAM CANCEL and fails the body with canceled", async () => {
    let stream!: DoubleStream;
    const { client } = await setup({
      onStream: (s) => {
        stream = s;
        s.respond(200);
        void s.write(new Uint8Array(100));
      },
    });
    const ac = new AbortController();
    const res = await client.request({ method: "POST", path: "/long", headers: [], signal: ac.signal });
    const it = res.body[Symbol.asyncIterator]();
    expect((await it.next()).value).toHaveLength(100);
    const pending = it.next();
    ac.abort();
    await expectConnectError(pending, Code.Canceled);
    await stream.until(() => stream.reset !== null);
    expect(stream.reset!.code).toBe(ErrorCode.CANCEL);
    expect(client.stats().streamsOpen).toBe(0);
  });

  it("abort before the head rejects request() with canceled and resets the stream", async () => {
    let stream!: DoubleStream;
    const { client } = await setup({ onStream: (s) => (stream = s) });
    const ac = new AbortController();
    const p = client.request({ method: "POST", path: "/slow", headers: [], signal: ac.signal, body: new Uint8Array(5) });
    await vitestUntil(() => stream !== undefined);
    ac.abort();
    await expectConnectError(p, Code.Canceled);
    await stream.until(() => stream.reset !== null);
    expect(stream.reset!.code).toBe(ErrorCode.CANCEL);
  });

  it("breaking out of the body early sends RST_STREAM CANCEL", async () => {
    let stream!: DoubleStream;
    const { client } = await setup({
      onStream: (s) => {
        stream = s;
        s.respond(200);
        void s.write(new Uint8Array(10)).then(() => s.write(new Uint8Array(10)));
      },
    });
    const res = await client.request({ method: "GET", path: "/many", headers: [] });
    for await (const chunk of res.body) {
      expect(chunk.length).toBe(10);
      break;
    }
    await stream.until(() => stream.reset !== null);
    expect(stream.reset!.code).toBe(ErrorCode.CANCEL);
  });
});

describe("ping", () => {
  it("answers PING with PONG echoing the 8 bytes", async () => {
    const { gw, client } = await setup({ onStream: echo });
    await readAll((await client.request({ method: "POST", path: "/x", headers: [] })).body);
    const conn = gw.connections[0]!;
    const data = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    conn.send({ kind: "ping", data });
    const pong = await conn.frame((f) => f.kind === "pong");
    expect([...(pong as { data: Uint8Array }).data]).toEqual([...data]);
  });
});

describe("GOAWAY", () => {
  it("retries the streams the gateway did not accept on a new socket with no failures", async () => {
    const accepted: DoubleStream[] = [];
    const { gw, client } = await setup({
      onStream: (s, conn) => {
        if (conn === conn.server.connections[0]) {
          // Streams 1-5 answer only once the GOAWAY is out, so the old socket drains with calls open.
          if (s.id <= 5) accepted.push(s);
          if (s.id === 10) {
            conn.goaway(5, ErrorCode.NO_ERROR, "draining");
            for (const a of accepted) echo(a);
          }
          return;
        }
        echo(s);
      },
    });
    const bodies = Array.from({ length: 10 }, (_, i) => pattern(100 + i, i + 1));
    const results = await Promise.allSettled(
      bodies.map(async (body, i) => {
        const res = await client.request({ method: "POST", path: `/g/${i}`, headers: [], body });
        const got = await readAll(res.body);
        if (!Buffer.from(got).equals(Buffer.from(body))) throw new Error(`call ${i}: body mismatch`);
      }),
    );
    expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    expect(gw.connections).toHaveLength(2);
    expect(gw.connections[0]!.streams.size).toBe(10);
    expect(gw.connections[1]!.streams.size).toBe(5);
    expect([...gw.connections[1]!.streams.values()].map((s) => s.path)).toEqual(["/g/5", "/g/6", "/g/7", "/g/8", "/g/9"]);
    // The old socket closes once its streams are done.
    await gw.connections[0]!.until(() => gw.connections[0]!.closed);
    expect(client.stats()).toMatchObject({ sockets: 1, reconnects: 1 });
    // New calls go to the new socket.
    await readAll((await client.request({ method: "POST", path: "/after", headers: [] })).body);
    expect(gw.connections[1]!.streams.size).toBe(6);
  });

  it("replays an unaccepted call whose streaming body was partly sent (sent bytes are kept)", async () => {
    const { client } = await setup({
      onStream: (s, conn) => {
        if (conn === conn.server.connections[0]) void s.until(() => s.received > 0).then(() => conn.goaway(1, ErrorCode.NO_ERROR));
        else echo(s);
      },
    });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    async function* body() {
      yield new Uint8Array([1]);
      await gate;
      yield new Uint8Array([2]);
    }
    const first = client.request({ method: "POST", path: "/one", headers: [], body: new Uint8Array(0) });
    const second = client.request({ method: "POST", path: "/two", headers: [], body: body() });
    void first.catch(() => {});
    const res = await second;
    release();
    expect([...(await readAll(res.body))]).toEqual([1, 2]);
  });

  it("fails an unaccepted call whose streaming body sent more than MAX_REPLAY_BYTES with unavailable", async () => {
    const { client } = await setup({
      settings: { initialStreamWindow: 4 * MAX_REPLAY_BYTES },
      onStream: (s, conn) => {
        if (conn === conn.server.connections[0]) {
          void s.until(() => s.received > MAX_REPLAY_BYTES).then(() => conn.goaway(1, ErrorCode.NO_ERROR));
        } else echo(s);
      },
    });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    async function* body() {
      yield new Uint8Array(MAX_REPLAY_BYTES + 1);
      await gate;
      yield new Uint8Array([2]);
    }
    // Stream 1 takes the first socket's slot below lastStreamId; stream 2 is above it.
    const first = client.request({ method: "POST", path: "/one", headers: [], body: new Uint8Array(0) });
    const second = client.request({ method: "POST", path: "/two", headers: [], body: body() });
    await expectConnectError(second, Code.Unavailable);
    release();
    void first.catch(() => {});
  });
});

describe("socket loss and reconnect", () => {
  it("fails every call in flight with unavailable at once when the socket drops", async () => {
    let opened = 0;
    const { gw, client } = await setup({
      onStream: (s) => {
        opened++;
        if (s.path === "/head") s.respond(200);
      },
    });
    const withHead = await client.request({ method: "POST", path: "/head", headers: [] });
    const noHead = client.request({ method: "POST", path: "/nohead", headers: [] });
    await vitestUntil(() => opened === 2);
    const start = performance.now();
    gw.dropAll();
    const e1 = await expectConnectError(readAll(withHead.body), Code.Unavailable);
    const e2 = await expectConnectError(noHead, Code.Unavailable);
    // "socket lost" (the call may have reached the backend), not "unreachable".
    expect(e1.rawMessage).toMatch(/^tunnel socket lost: /);
    expect(e2.rawMessage).toMatch(/^tunnel socket lost: /);
    expect(performance.now() - start).toBeLessThan(1000);
    expect(client.status).toBe("reconnecting");
  });

  it("reconnects after a gateway restart; calls while it is down fail with unavailable and do not hang", async () => {
    const gw1 = await startDouble({ onStream: echo });
    const port = gw1.port;
    const statuses: string[] = [];
    const client = createTunnelClient({
      url: gw1.url,
      WebSocket,
      connectTimeoutMs: 2_000,
      reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
      onStatus: (s) => statuses.push(s),
    });
    cleanups.push(() => client.close());
    await readAll((await client.request({ method: "POST", path: "/1", headers: [] })).body);
    await gw1.close();
    for (let i = 0; i < 3; i++) {
      await expectConnectError(client.request({ method: "POST", path: "/down", headers: [] }), Code.Unavailable);
    }
    const gw2 = await startDouble({ onStream: echo, port });
    cleanups.push(() => gw2.close());
    // Calls fail with unavailable until the client's backoff lets it reach the new gateway.
    const codes = new Set<Code>();
    await vi.waitFor(
      async () => {
        try {
          await readAll((await client.request({ method: "POST", path: "/2", headers: [] })).body);
        } catch (e) {
          codes.add(ConnectError.from(e).code);
          throw e;
        }
      },
      { timeout: 5_000, interval: 50 },
    );
    expect([...codes].filter((c) => c !== Code.Unavailable)).toEqual([]);
    expect(gw2.connections.length).toBeGreaterThanOrEqual(1);
    expect(client.stats().reconnects).toBeGreaterThanOrEqual(1);
    expect(statuses[0]).toBe("connected");
    expect(statuses).toContain("reconnecting");
    expect(statuses.at(-1)).toBe("connected");
  });

  it("a call to an unreachable gateway fails with unavailable instead of hanging", async () => {
    const gw = await startDouble({});
    const url = gw.url;
    await gw.close();
    const client = createTunnelClient({ url, WebSocket, connectTimeoutMs: 3_000 });
    cleanups.push(() => client.close());
    const err = await expectConnectError(client.request({ method: "POST", path: "/x", headers: [] }), Code.Unavailable);
    // Never reached a gateway: safe to replay elsewhere.
    expect(err.rawMessage).toMatch(/^tunnel gateway unreachable: could not connect/);
  });
});

describe("queueing", () => {
  it("queues calls above MAX_CONCURRENT_STREAMS (FIFO) and never exceeds the limit", async () => {
    const held: DoubleStream[] = [];
    const { gw, client } = await setup({
      settings: { maxConcurrentStreams: 3 },
      onStream: (s) => held.push(s),
    });
    const calls = Array.from({ length: 12 }, (_, i) =>
      client.request({ method: "POST", path: `/q/${i}`, headers: [], body: new Uint8Array([i]) }).then((r) => readAll(r.body)),
    );
    await vitestUntil(() => held.length === 3);
    expect(client.stats()).toMatchObject({ streamsOpen: 3, streamsQueued: 9 });
    // Finish calls one at a time; the queue advances in order.
    for (let i = 0; i < 12; i++) {
      await vitestUntil(() => held.length > i);
      echo(held[i]!);
    }
    const bodies = await Promise.all(calls);
    expect(bodies.map((b) => b[0])).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(held.map((s) => s.path)).toEqual(Array.from({ length: 12 }, (_, i) => `/q/${i}`));
    expect(gw.connections[0]!.maxOpen).toBeLessThanOrEqual(3);
    expect(kinds(gw.connections[0]!.received)).not.toContain("goaway");
  });
});

describe("more session rules", () => {
  it("a trailers-only response (HEADERS with END_STREAM) resolves with an empty body", async () => {
    const { client } = await setup({ onStream: (s) => s.respond(200, [["grpc-status", "5"]], true) });
    const res = await client.request({ method: "POST", path: "/t", headers: [] });
    expect(res.headers).toEqual([["grpc-status", "5"]]);
    expect((await readAll(res.body)).length).toBe(0);
    expect(res.trailers()).toEqual([]);
    expect(client.stats().streamsOpen).toBe(0);
  });

  it("a request body iterable that throws resets the stream and fails the call", async () => {
    const { gw, client } = await setup({});
    async function* body() {
      yield new Uint8Array([1]);
      throw new Error("producer broke");
    }
    const err = await expectConnectError(client.request({ method: "POST", path: "/b", headers: [], body: body() }), Code.Internal);
    expect(err.rawMessage).toContain("producer broke");
    const rst = await (await gw.connection(1)).frame((f) => f.kind === "rst");
    expect(rst).toMatchObject({ streamId: 1, code: ErrorCode.CANCEL });
  });

  it("a GOAWAY with an error code fails the accepted streams with the mapped code when the gateway closes", async () => {
    const { client } = await setup({
      onStream: (s, conn) => {
        s.respond(200);
        conn.goaway(s.id, ErrorCode.ENHANCE_YOUR_CALM, "too many streams");
        conn.ws.close();
      },
    });
    const res = await client.request({ method: "POST", path: "/x", headers: [] });
    const err = await expectConnectError(readAll(res.body), Code.ResourceExhausted);
    expect(err.rawMessage).toContain("too many streams");
  });

  it("answers a SETTINGS version it does not speak with GOAWAY UNSUPPORTED_VERSION", async () => {
    const { gw, client } = await setup({ settings: { version: 2 } });
    const err = await expectConnectError(client.request({ method: "POST", path: "/x", headers: [] }), Code.Unavailable);
    expect(err.rawMessage).toMatch(/version 2.*version 1/);
    const goaway = await gw.connections[0]!.frame((f) => f.kind === "goaway");
    expect(goaway).toMatchObject({ code: ErrorCode.UNSUPPORTED_VERSION });
  });

  it("returns socket window credit for DATA that arrives after a stream was cancelled", async () => {
    const streams: DoubleStream[] = [];
    const { gw, client } = await setup(
      {
        onStream: (s) => {
          streams.push(s);
          s.respond(200);
          if (s.path === "/big") void s.write(new Uint8Array(60_000));
        },
      },
      { streamWindow: 64 << 10, connectionWindow: 100_000 },
    );
    const ac = new AbortController();
    await client.request({ method: "GET", path: "/big", headers: [], signal: ac.signal });
    const conn = gw.connections[0]!;
    await streams[0]!.until(() => streams[0]!.sent === 60_000);
    ac.abort();
    await conn.frame((f) => f.kind === "window-update" && f.streamId === 0);
    // The socket window is whole again: another 60 000-byte response fits.
    const res = await client.request({ method: "GET", path: "/again", headers: [] });
    void streams[1]!.write(new Uint8Array(60_000)).then(() => streams[1]!.trailers([]));
    expect((await readAll(res.body)).length).toBe(60_000);
    expect(conn.sendWindow).toBeGreaterThanOrEqual(100_000 - 60_000);
  });
});

describe("close", () => {
  it("close() fails pending calls with canceled and does not reconnect", async () => {
    const { gw, client } = await setup({ onStream: (s) => s.respond(200) });
    const res = await client.request({ method: "POST", path: "/x", headers: [] });
    client.close();
    await expectConnectError(readAll(res.body), Code.Canceled);
    await expectConnectError(client.request({ method: "POST", path: "/y", headers: [] }), Code.Canceled);
    expect(client.status).toBe("closed");
    await gw.connections[0]!.until(() => gw.connections[0]!.closed);
    expect(gw.connections).toHaveLength(1);
  });
});

/** Waits until `cond` holds (state changed by socket events). */
async function vitestUntil(cond: () => boolean): Promise<void> {
  await vi.waitFor(() => expect(cond()).toBe(true), { timeout: 10_000, interval: 5 });
}
