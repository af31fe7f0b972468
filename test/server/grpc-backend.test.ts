/** gRPC passthrough against the real @grpc/grpc-js demo backend. */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, expect, it } from "vitest";
import { pino } from "pino";
import { startGrpcBackend, type Backend } from "../../demo/backend/index.js";
import { UnaryRequestSchema, UnaryResponseSchema } from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { createGateway, type Gateway } from "../../server/index.js";
import { RawClient, envelope, grpcCall, header, unenvelope } from "./helpers.js";

let backend: Backend;
let gateway: Gateway;

beforeAll(async () => {
  backend = await startGrpcBackend();
  gateway = await createGateway({
    upstream: backend.url,
    port: 0,
    logger: pino({ level: "silent" }),
    allowServices: ["swtunnel.test.v1.TestService"],
  });
});
afterAll(async () => {
  await gateway.close(100);
  await backend.close();
});

it("carries TestService/Unary to grpc-js and back, with grpc-timeout reaching the backend", async () => {
  const client = await RawClient.connect(gateway.tunnelUrl);
  const request = toBinary(UnaryRequestSchema, create(UnaryRequestSchema, { text: "hi", responseSize: 100_000 }));
  client.send({
    kind: "request-headers",
    streamId: 1,
    endStream: false,
    method: "POST",
    path: "/swtunnel.test.v1.TestService/Unary",
    headers: [
      ["content-type", "application/grpc"],
      ["grpc-timeout", "5S"],
    ],
  });
  client.send({ kind: "data", streamId: 1, endStream: true, data: envelope(request) });
  const result = await client.collect(1);
  expect(result.status).toBe(200);
  expect(header(result.trailers, "grpc-status")).toBe("0");
  const response = fromBinary(UnaryResponseSchema, unenvelope(result.body)[0]!);
  expect(response.text).toContain("hi");
  expect(response.payload.length).toBe(100_000);
  expect(Number(response.timeoutMs)).toBeGreaterThan(0);
  // An unknown method answers the backend's own status.
  const missing = await grpcCall(client, 3, "/swtunnel.test.v1.TestService/Nope", new Uint8Array(0));
  expect(header(missing.trailers, "grpc-status") ?? header(missing.headers, "grpc-status")).toBe("12");
  client.close();
});
