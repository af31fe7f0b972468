// The worker's error Responses, read by the real @connectrpc/connect-web transports the
// page uses (their fetch replaced by one returning the worker's Response).
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { describe, expect, it } from "vitest";
import { TestService } from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { errorTail, iterableToStream } from "../../sw/body.js";
import { gatewayUnreachableError, rpcErrorResponse, rpcFlavor } from "../../sw/error-response.js";

function clientAnswering(kind: "connect-bin" | "connect-json" | "grpc-web", answer: (req: Request) => Response) {
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => answer(new Request(input, init));
  const opts = { baseUrl: "https://api.example", fetch: fetch as typeof globalThis.fetch };
  const transport =
    kind === "grpc-web" ? createGrpcWebTransport(opts) : createConnectTransport({ ...opts, useBinaryFormat: kind === "connect-bin" });
  return createClient(TestService, transport);
}

async function errorOf(p: Promise<unknown> | AsyncIterable<unknown>): Promise<ConnectError> {
  try {
    if (p instanceof Promise) await p;
    else for await (const _ of p);
  } catch (e) {
    return ConnectError.from(e);
  }
  throw new Error("expected the call to fail");
}

const unreachable = gatewayUnreachableError("wss://gw.example/tunnel", new Error("ECONNREFUSED"));

describe("rpcErrorResponse", () => {
  for (const kind of ["connect-bin", "connect-json", "grpc-web"] as const) {
    it(`${kind}: unary and server-streaming calls see unavailable with the gateway message`, async () => {
      const client = clientAnswering(kind, (req) => {
        const ct = req.headers.get("content-type");
        return rpcErrorResponse(rpcFlavor(ct), ct, unreachable);
      });
      const e1 = await errorOf(client.unary({ text: "x" }));
      expect(e1.code).toBe(Code.Unavailable);
      expect(e1.rawMessage).toMatch(/gateway wss:\/\/gw\.example\/tunnel could not be reached/);
      const e2 = await errorOf(client.serverStream({ count: 2 }));
      expect(e2.code).toBe(Code.Unavailable);
    });
  }

  it("classifies content types", () => {
    expect(rpcFlavor("application/proto")).toBe("connect-unary");
    expect(rpcFlavor("application/json; charset=utf-8")).toBe("connect-unary");
    expect(rpcFlavor("application/connect+json")).toBe("connect-stream");
    expect(rpcFlavor("application/grpc-web-text+proto")).toBe("grpc-web");
    expect(rpcFlavor("application/grpc")).toBe("grpc");
    expect(rpcFlavor(null, true)).toBe("connect-unary");
    expect(rpcFlavor("text/plain")).toBe("other");
  });

  it("a tunnel failure mid-stream ends a Connect / gRPC-Web stream with the Connect code, after the messages already sent", async () => {
    for (const kind of ["connect-bin", "grpc-web"] as const) {
      const client = clientAnswering(kind, (req) => {
        const ct = req.headers.get("content-type")!;
        // One real message (index 1), then the tunnel fails.
        const msg = new Uint8Array([0, 0, 0, 0, 2, 8, 1]);
        const body = (async function* () {
          yield msg;
          throw new ConnectError("socket lost", Code.Unavailable);
        })();
        return new Response(iterableToStream(body, { flavor: rpcFlavor(ct) }), { headers: { "content-type": ct } });
      });
      const got: number[] = [];
      const err = await errorOf(
        (async function* () {
          for await (const m of client.serverStream({ count: 3 })) {
            got.push(m.index);
            yield m;
          }
        })(),
      );
      expect(got, kind).toEqual([1]);
      expect(err.code, kind).toBe(Code.Unavailable);
      expect(err.rawMessage).toBe("socket lost");
    }
    expect(errorTail("connect-unary", new Error("x"))).toBeUndefined();
  });
});
