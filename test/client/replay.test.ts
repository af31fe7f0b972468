/**
 * GOAWAY replay (client/replay.ts): what is kept, the MAX_REPLAY_BYTES limit, which calls
 * run again and which fail; unit level, then through the client on in-memory sockets.
 */
import { afterEach, describe, expect, it } from "vitest";
import { BodySource } from "../../client/body-source.js";
import { createTunnelClient } from "../../client/index.js";
import { MAX_REPLAY_BYTES, ReplayBuffer, notReplayableError, replayOrFail, unprocessedBy } from "../../client/replay.js";
import { ErrorCode } from "../../protocol/index.js";
import { fakeWebSocket } from "./fake-websocket.js";

const bytes = (...b: number[]) => new Uint8Array(b);

/** Takes the whole body, as the stream pump would, in pieces of at most `n`: its bytes (or its length when long). */
async function drain(source: BodySource, n = Number.MAX_SAFE_INTEGER): Promise<number[]> {
  const out: Uint8Array[] = [];
  for (let chunk = await source.peek(); chunk !== null; chunk = await source.peek()) out.push(source.take(Math.min(n, chunk.length)));
  const all = Buffer.concat(out);
  return all.length > 64 ? [all.length] : [...all];
}

async function* chunks(...list: Uint8Array[]) {
  for (const c of list) yield c;
}

describe("unprocessedBy", () => {
  it("streams above GOAWAY's lastStreamId were never processed", () => {
    expect(unprocessedBy(5, 6)).toBe(true);
    expect(unprocessedBy(5, 5)).toBe(false);
    expect(unprocessedBy(5, 1)).toBe(false);
    expect(unprocessedBy(0, 1)).toBe(true);
  });
});

describe("ReplayBuffer", () => {
  it("keeps sent chunks in order and hands them back on rewind", () => {
    const b = new ReplayBuffer();
    b.sent(bytes(1, 2));
    b.sent(bytes(3));
    expect(b.intact).toBe(true);
    expect(b.rewind().map((c) => [...c])).toEqual([[1, 2], [3]]);
    expect(b.rewind()).toEqual([]); // nothing sent since
    expect(b.intact).toBe(true);
  });

  it("keeps up to the limit; one byte more and nothing is kept", () => {
    const b = new ReplayBuffer(4);
    b.sent(bytes(1, 2, 3, 4));
    expect(b.intact).toBe(true);
    b.sent(bytes(5));
    expect(b.intact).toBe(false);
    expect(b.rewind()).toEqual([]);
    expect(b.intact).toBe(false); // still: the bytes are gone
  });

  it("the default limit is 1 MiB", () => {
    expect(MAX_REPLAY_BYTES).toBe(1 << 20);
    const b = new ReplayBuffer();
    b.sent(new Uint8Array(MAX_REPLAY_BYTES));
    expect(b.intact).toBe(true);
    b.sent(bytes(0));
    expect(b.intact).toBe(false);
  });

  it("keeps nothing once the call was accepted", () => {
    const b = new ReplayBuffer();
    expect((b.accepted(), b.intact)).toBe(true); // nothing sent: nothing lost
    b.sent(bytes(1));
    expect(b.intact).toBe(false);
  });
});

describe("replayOrFail", () => {
  it("rewinds and returns the replayable calls in order; fails the others with unavailable", () => {
    const rewound: string[] = [];
    const call = (name: string, replayable: boolean) => ({ name, source: { replayable, rewind: () => rewound.push(name) } });
    const failed: Array<[string, string]> = [];
    const replay = replayOrFail([call("a", true), call("b", false), call("c", true)], (c, e) => failed.push([c.name, e.message]));
    expect(replay.map((c) => c.name)).toEqual(["a", "c"]);
    expect(rewound).toEqual(["a", "c"]);
    expect(failed).toEqual([["b", notReplayableError().message]]);
    expect(notReplayableError().code).toBe(14); // unavailable
    expect(notReplayableError().rawMessage).toMatch(/went away before processing this call/);
  });
});

describe("BodySource replay", () => {
  it("a bytes body is always replayable, even after it was sent and accepted", async () => {
    const s = BodySource.from(bytes(1, 2, 3));
    expect(await drain(s, 2)).toEqual([1, 2, 3]);
    s.accepted();
    expect(s.replayable).toBe(true);
    s.rewind();
    expect(await drain(s)).toEqual([1, 2, 3]);
  });

  it("an iterable body replays what was sent, then goes on with the rest", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const s = BodySource.from(
      (async function* () {
        yield bytes(1, 2, 3);
        await gate;
        yield bytes(4);
      })(),
    );
    await s.peek();
    expect([...s.take(2)]).toEqual([1, 2]);
    expect(s.replayable).toBe(true);
    s.rewind();
    const chunk = await s.peek();
    expect([...s.take(chunk!.length)]).toEqual([1, 2]);
    expect([...s.take(1)]).toEqual([3]);
    release();
    expect(await drain(s)).toEqual([4]);
    expect(s.exhausted).toBe(true);
  });

  it("an iterable body is not replayable after more than MAX_REPLAY_BYTES were sent, or once accepted", async () => {
    const big = BodySource.from(chunks(new Uint8Array(MAX_REPLAY_BYTES), bytes(1)));
    await drain(big);
    expect(big.replayable).toBe(false);

    const upTo = BodySource.from(chunks(new Uint8Array(MAX_REPLAY_BYTES)));
    await drain(upTo);
    expect(upTo.replayable).toBe(true);

    const accepted = BodySource.from(chunks(bytes(1)));
    expect(accepted.replayable).toBe(true); // nothing sent yet
    await drain(accepted);
    accepted.accepted();
    expect(accepted.replayable).toBe(false);
  });
});

describe("GOAWAY through the client (in-memory sockets)", () => {
  const clients: Array<{ close(): void }> = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  it("calls above lastStreamId run again first on a new socket; an over-limit streaming body fails with unavailable", async () => {
    const { WebSocket, sockets } = fakeWebSocket();
    const client = createTunnelClient({ url: "ws://gw.test/t", WebSocket });
    clients.push(client);
    const one = client.request({ method: "POST", path: "/one", headers: [], body: bytes(1) });
    const two = client.request({ method: "POST", path: "/two", headers: [], body: bytes(2) });
    const three = client.request({ method: "POST", path: "/three", headers: [], body: chunks(new Uint8Array(MAX_REPLAY_BYTES + 1)) });
    sockets[0]!.open({ initialStreamWindow: 4 * MAX_REPLAY_BYTES, initialConnectionWindow: 4 * MAX_REPLAY_BYTES });
    await expect.poll(() => sockets[0]!.sent.filter((f) => f.kind === "data" && f.streamId === 3).length).toBeGreaterThan(0);
    sockets[0]!.receive({ kind: "goaway", lastStreamId: 1, code: ErrorCode.NO_ERROR, message: "draining" });

    await expect(three).rejects.toMatchObject({ code: 14, rawMessage: expect.stringMatching(/cannot be sent again/) });
    await expect.poll(() => sockets.length).toBe(2);
    sockets[1]!.open({});
    await expect.poll(() => sockets[1]!.sent.filter((f) => f.kind === "request-headers").length).toBe(1);
    const replayed = sockets[1]!.sent.find((f) => f.kind === "request-headers");
    expect(replayed).toMatchObject({ streamId: 1, path: "/two" });
    expect(sockets[1]!.sent.find((f) => f.kind === "data")).toMatchObject({ streamId: 1, data: bytes(2) });

    // Stream 1 finishes on the old socket.
    sockets[0]!.receive({ kind: "response-headers", streamId: 1, endStream: true, status: 200, headers: [] });
    sockets[1]!.receive({ kind: "response-headers", streamId: 1, endStream: true, status: 200, headers: [] });
    expect((await one).status).toBe(200);
    expect((await two).status).toBe(200);
  });
});
