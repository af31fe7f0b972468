import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { create } from "@bufbuild/protobuf";
import { BidiRequestSchema, ClientStreamRequestSchema, ErrorDetailSchema, TestService } from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { ChatMessageSchema, DemoService } from "../../demo/gen/swtunnel/demo/v1/demo_pb.js";
import { patternBytes, startConnectBackend, startGrpcBackend, type Backend } from "../../demo/backend/index.js";

type Starter = () => Promise<Backend>;

const kinds: [string, Starter][] = [
  ["grpc-js", () => startGrpcBackend()],
  ["connect-node h2c", () => startConnectBackend()],
];

describe.each(kinds)("%s backend over gRPC", (_name, start) => {
  let backend: Backend;
  let client: Client<typeof TestService>;
  let demo: Client<typeof DemoService>;

  beforeAll(async () => {
    backend = await start();
    const transport = createGrpcTransport({ baseUrl: backend.url }); // gRPC is always HTTP/2;
    client = createClient(TestService, transport);
    demo = createClient(DemoService, transport);
  });
  afterAll(async () => {
    await backend?.close();
  });

  it("listens on 127.0.0.1 with a free port", () => {
    expect(backend.host).toBe("127.0.0.1");
    expect(backend.port).toBeGreaterThan(0);
    expect(backend.url).toBe(`http://127.0.0.1:${backend.port}`);
  });

  it("echoes unary text and returns a pattern payload", async () => {
    const res = await client.unary({ text: "héllo", responseSize: 300, payload: new Uint8Array(7) });
    expect(res.text).toBe("héllo");
    expect(res.payload).toEqual(patternBytes(300));
    expect(res.payload[257]).toBe(1);
    expect(res.requestBytes).toBe(7);
    expect(res.timeoutMs).toBe(-1n);
  });

  it("echoes x-echo- metadata as headers and -t trailers, ASCII, repeated and binary", async () => {
    const headers = new Headers();
    headers.append("x-echo-a", "one");
    headers.append("x-echo-a", "two");
    headers.set("x-echo-data-bin", Buffer.from([0, 1, 2, 255]).toString("base64"));
    headers.set("x-other", "not echoed");
    let responseHeader: Headers | undefined;
    let responseTrailer: Headers | undefined;
    await client.unary({ text: "m" }, { headers, onHeader: (h) => (responseHeader = h), onTrailer: (t) => (responseTrailer = t) });
    expect(responseHeader?.get("x-echo-a")).toBe("one, two");
    expect(responseHeader?.get("x-other")).toBeNull();
    expect(Buffer.from(responseHeader?.get("x-echo-data-bin") ?? "", "base64")).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(responseTrailer?.get("x-echo-a-t")).toBe("one, two");
    expect(Buffer.from(responseTrailer?.get("x-echo-data-t-bin") ?? "", "base64")).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(responseTrailer?.get("x-echo-a")).toBeNull();
  });

  it("Fail gives the code, message and an ErrorDetail", async () => {
    const headers = { "x-echo-f": "v" };
    const err = await client.fail({ code: Code.ResourceExhausted, message: "too much", detail: "quota" }, { headers }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(err?.rawMessage).toBe("too much");
    const details = err?.findDetails(ErrorDetailSchema) ?? [];
    expect(details.map((d) => d.reason)).toEqual(["quota"]);
    expect(err?.metadata.get("x-echo-f-t")).toBe("v");
  });

  it("Fail with an out-of-range code is invalid_argument", async () => {
    const err = await client.fail({ code: 17 }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
  });

  it("server stream sends count messages of size bytes", async () => {
    const indexes: number[] = [];
    for await (const msg of client.serverStream({ count: 25, size: 1000 })) {
      expect(msg.payload).toEqual(patternBytes(1000));
      indexes.push(msg.index);
    }
    expect(indexes).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });

  it("server stream ends with fail_code after count messages", async () => {
    let received = 0;
    const err = await (async () => {
      for await (const _ of client.serverStream({ count: 3, failCode: Code.Unavailable })) received++;
    })().catch((e: unknown) => ConnectError.from(e));
    expect(received).toBe(3);
    expect((err as ConnectError).code).toBe(Code.Unavailable);
  });

  it("client stream counts, sums and joins", async () => {
    async function* requests() {
      yield create(ClientStreamRequestSchema, { id: "cs", text: "a", payload: new Uint8Array(10) });
      yield create(ClientStreamRequestSchema, { text: "b", payload: new Uint8Array(5) });
      yield create(ClientStreamRequestSchema, { text: "c" });
    }
    const res = await client.clientStream(requests());
    expect(res.count).toBe(3);
    expect(res.totalBytes).toBe(15n);
    expect(res.joined).toBe("a,b,c");
  });

  it("bidi echoes each message before the next is sent", async () => {
    const texts = ["x", "y", "z"];
    let release: () => void = () => {};
    const received: string[] = [];
    async function* requests() {
      for (const text of texts) {
        const next = new Promise<void>((r) => (release = r));
        yield create(BidiRequestSchema, { text, payload: new Uint8Array([1, 2]) });
        await next; // the echo must arrive while the request stream is still open
      }
    }
    for await (const msg of client.bidi(requests())) {
      received.push(`${msg.index}:${msg.text}`);
      expect(msg.payload).toEqual(new Uint8Array([1, 2]));
      release();
    }
    expect(received).toEqual(["0:x", "1:y", "2:z"]);
  });

  it("records a cancel when the client aborts during the delay", async () => {
    const id = `cancel-${Math.random()}`;
    const controller = new AbortController();
    const call = client.unary({ id, delayMs: 20_000 }, { signal: controller.signal });
    await expect.poll(async () => (await client.inspect({ id })).seen).toBe(true);
    controller.abort();
    await expect(call).rejects.toMatchObject({ code: Code.Canceled });
    expect(await backend.recorder.waitForCancel(id, 5000)).toBe(true);
    const seen = await client.inspect({ id });
    expect(seen.seen).toBe(true);
    expect(seen.cancelled).toBe(true);
  });

  it("records a cancel of a server stream", async () => {
    const id = `stream-cancel-${Math.random()}`;
    const controller = new AbortController();
    let received = 0;
    const err = await (async () => {
      for await (const _ of client.serverStream({ id, count: 1000, intervalMs: 50 }, { signal: controller.signal })) {
        if (++received === 2) controller.abort();
      }
    })().catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.Canceled);
    expect(await backend.recorder.waitForCancel(id, 5000)).toBe(true);
    expect((await client.inspect({ id })).cancelled).toBe(true);
  });

  it("does not record a cancel for a call that completed", async () => {
    const id = `ok-${Math.random()}`;
    await client.unary({ id, delayMs: 10 });
    expect(await backend.recorder.waitForCancel(id, 200)).toBe(false);
    expect(await client.inspect({ id })).toMatchObject({ seen: true, cancelled: false, timeoutMs: -1n });
  });

  it("records the deadline the server saw", async () => {
    const id = `deadline-${Math.random()}`;
    const res = await client.unary({ id }, { timeoutMs: 5000 });
    expect(res.timeoutMs).toBeGreaterThan(0n);
    expect(res.timeoutMs).toBeLessThanOrEqual(5000n);
    const seen = await client.inspect({ id });
    expect(seen.timeoutMs).toBe(res.timeoutMs);
  });

  it("serves DemoService", async () => {
    expect((await demo.sayHello({ name: "Ada" })).message).toBe("Hello, Ada!");
    const seqs: number[] = [];
    for await (const t of demo.tick({ intervalMs: 1, count: 3 })) seqs.push(t.seq);
    expect(seqs).toEqual([0, 1, 2]);
    async function* msgs() {
      yield create(ChatMessageSchema, { text: "a" });
      yield create(ChatMessageSchema, { text: "b" });
    }
    const replies: string[] = [];
    for await (const m of demo.chat(msgs())) replies.push(m.text);
    expect(replies).toEqual(["echo: a", "echo: b"]);
  });
});
