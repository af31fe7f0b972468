// The Connect backend's other listeners and protocols: Connect and gRPC-Web over h2c,
// HTTP/1.1 with CORS, HTTP/2 over TLS; plus back-pressure and quick close on both backends.
import { writeSelfSignedCert } from "../../tools/tls.js";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { ErrorDetailSchema, TestService } from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { DemoService } from "../../demo/gen/swtunnel/demo/v1/demo_pb.js";
import { patternBytes, startConnectBackend, startConnectBackendHttp1, startGrpcBackend, type Backend } from "../../demo/backend/index.js";

/** Unary echo with metadata, an error with detail, and a server stream over one transport. */
async function exercise(transport: Transport): Promise<void> {
  const client = createClient(TestService, transport);
  let header: Headers | undefined;
  let trailer: Headers | undefined;
  const res = await client.unary(
    { text: "hi", responseSize: 10 },
    { headers: { "x-echo-k": "v" }, onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) },
  );
  expect(res.text).toBe("hi");
  expect(res.payload).toEqual(patternBytes(10));
  expect(header?.get("x-echo-k")).toBe("v");
  expect(trailer?.get("x-echo-k-t")).toBe("v");
  const err = await client.fail({ code: Code.NotFound, message: "nope", detail: "why" }).catch((e: unknown) => ConnectError.from(e));
  expect((err as ConnectError).code).toBe(Code.NotFound);
  expect((err as ConnectError).rawMessage).toBe("nope");
  expect((err as ConnectError).findDetails(ErrorDetailSchema).map((d) => d.reason)).toEqual(["why"]);
  let n = 0;
  for await (const m of client.serverStream({ count: 5, size: 3 })) expect(m.index).toBe(n++);
  expect(n).toBe(5);
}

describe("Connect backend on h2c", () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startConnectBackend();
  });
  afterAll(() => backend?.close());

  it("serves the Connect protocol", async () => {
    await exercise(createConnectTransport({ baseUrl: backend.url, httpVersion: "2" }));
  });
  it("serves gRPC-Web", async () => {
    await exercise(createGrpcWebTransport({ baseUrl: backend.url, httpVersion: "2" }));
  });
  it("records the Connect deadline", async () => {
    const client = createClient(TestService, createConnectTransport({ baseUrl: backend.url, httpVersion: "2" }));
    const res = await client.unary({ id: "connect-deadline" }, { timeoutMs: 3000 });
    expect(res.timeoutMs).toBeGreaterThan(0n);
    expect(res.timeoutMs).toBeLessThanOrEqual(3000n);
    expect(backend.recorder.get("connect-deadline").timeoutMs).toBe(Number(res.timeoutMs));
  });
});

describe("Connect backend on HTTP/1.1", () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startConnectBackendHttp1();
  });
  afterAll(() => backend?.close());

  it("serves Connect and gRPC-Web", async () => {
    await exercise(createConnectTransport({ baseUrl: backend.url, httpVersion: "1.1" }));
    await exercise(createGrpcWebTransport({ baseUrl: backend.url, httpVersion: "1.1" }));
  });

  it("answers CORS preflights for any origin and exposes headers", async () => {
    const url = `${backend.url}/swtunnel.test.v1.TestService/Unary`;
    const preflight = await fetch(url, {
      method: "OPTIONS",
      headers: {
        origin: "http://page.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,x-echo-a",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("http://page.example");
    expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
    expect(preflight.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("x-echo-a");
    const res = await fetch(url, {
      method: "POST",
      headers: { origin: "http://page.example", "content-type": "application/json", "x-echo-a": "1" },
      body: JSON.stringify({ text: "json" }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ text: "json" });
    expect(res.headers.get("access-control-allow-origin")).toBe("http://page.example");
    expect(res.headers.get("access-control-expose-headers")).toContain("Grpc-Status-Details-Bin");
    expect(res.headers.get("x-echo-a")).toBe("1");
  });
});

describe("Connect backend on HTTP/2 over TLS", () => {
  let backend: Backend;
  let dir: string;
  let cert: Buffer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "swtunnel-tls-"));
    writeSelfSignedCert(dir);
    cert = readFileSync(join(dir, "cert.pem"));
    backend = await startConnectBackend({ tls: { key: readFileSync(join(dir, "key.pem")), cert } });
  });
  afterAll(async () => {
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves gRPC and Connect over TLS, and HTTP/1.1 too", async () => {
    expect(backend.url).toBe(`https://127.0.0.1:${backend.port}`);
    await exercise(createGrpcTransport({ baseUrl: backend.url, nodeOptions: { ca: cert } }));
    await exercise(createConnectTransport({ baseUrl: backend.url, httpVersion: "2", nodeOptions: { ca: cert } }));
    await exercise(createConnectTransport({ baseUrl: backend.url, httpVersion: "1.1", nodeOptions: { ca: cert } }));
  });
});

describe.each([
  ["grpc-js", () => startGrpcBackend()],
  ["connect-node", () => startConnectBackend()],
] as const)("%s back-pressure and close", (_name, start) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await start();
  });
  afterAll(() => backend?.close());

  it("stops producing a server stream while the reader does not read", async () => {
    const client = createClient(TestService, createGrpcTransport({ baseUrl: backend.url }));
    const id = `bp-${Math.random()}`;
    const count = 2000;
    const size = 64 * 1024; // 125 MiB if the server ignored back-pressure
    const controller = new AbortController();
    const it = client.serverStream({ id, count, size }, { signal: controller.signal })[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(false);
    // Wait until the server stops making progress, then check it stopped early.
    let last = -1;
    let sent = backend.recorder.get(id).messagesSent;
    while (sent !== last) {
      last = sent;
      await new Promise((r) => setTimeout(r, 200));
      sent = backend.recorder.get(id).messagesSent;
    }
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(count / 4);
    controller.abort();
    await it.next().catch(() => undefined);
    expect(await backend.recorder.waitForCancel(id, 5000)).toBe(true);
  });

  it("close() ends open streams instead of waiting for them", async () => {
    const other = await start();
    const client = createClient(DemoService, createGrpcTransport({ baseUrl: other.url }));
    const ticks = client.tick({ intervalMs: 50, count: 0 })[Symbol.asyncIterator]();
    expect((await ticks.next()).done).toBe(false);
    await other.close();
    // The endless stream must now end (error or done) rather than hang.
    const outcome = await (async () => {
      for (;;) {
        const r = await ticks.next();
        if (r.done) return "done";
      }
    })().catch((e: unknown) => ConnectError.from(e).code);
    expect(outcome).not.toBeUndefined();
  });
});
