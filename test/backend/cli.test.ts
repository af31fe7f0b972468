import { describe, expect, it } from "vitest";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { DemoService } from "../../demo/gen/swtunnel/demo/v1/demo_pb.js";
import { parseCliArgs, startBackend } from "../../demo/backend/index.js";

describe("backend CLI arguments", () => {
  it("parses kind, port and host", () => {
    expect(parseCliArgs(["--kind", "grpc"])).toEqual({ kind: "grpc", port: 0 });
    expect(parseCliArgs(["--kind", "connect-http1", "--port", "8080", "--host", "::1"])).toEqual({
      kind: "connect-http1",
      port: 8080,
      host: "::1",
    });
  });
  it("rejects bad input with a usage hint", () => {
    expect(() => parseCliArgs([])).toThrow(/--kind must be one of grpc, connect, connect-http1/);
    expect(() => parseCliArgs(["--kind", "grpc", "--port", "x"])).toThrow(/--port must be an integer/);
    expect(() => parseCliArgs(["--kind", "grpc", "--tls-key", "k"])).toThrow(/both --tls-key and --tls-cert/);
    expect(() => parseCliArgs(["--kind", "grpc", "--bogus"])).toThrow();
  });
  it("startBackend starts the parsed kind", async () => {
    const backend = await startBackend(parseCliArgs(["--kind", "connect-http1"]));
    try {
      const client = createClient(DemoService, createConnectTransport({ baseUrl: backend.url, httpVersion: "1.1" }));
      expect((await client.sayHello({ name: "cli" })).message).toBe("Hello, cli!");
    } finally {
      await backend.close();
    }
  });
});
