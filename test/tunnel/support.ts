/**
 * Shared set-up of the tunnel acceptance tests: a real backend (grpc-js or connect-node), a
 * real gateway in front of it, a Node tunnel client, and Connect-ES's own protocol
 * transports (`createTransport` of protocol-grpc, -grpc-web, -connect) over
 * createUniversalClient (createTransportOverTunnel), with
 * the protocol, the format and the tunnel client as parameters.
 */
import { readFileSync } from "node:fs";
import { ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { WebSocket } from "ws";
import { vi } from "vitest";
import { startConnectBackend, startGrpcBackend, type Backend } from "../../demo/backend/index.js";
import { TestService } from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import type { Gateway, GatewayOptions } from "../../server/index.js";
import { createTransportOverTunnel, createTunnelClient, type TunnelClient, type TunnelClientOptions } from "../../client/index.js";

export const descriptors = readFileSync(new URL("../../demo/gen/descriptors.binpb", import.meta.url));

/** The two real backends and the upstream protocol the gateway speaks to each. */
export type BackendKind = "connect-node" | "grpc-js";

export const backendKinds: Array<[BackendKind]> = [["connect-node"], ["grpc-js"]];

export function startBackend(kind: BackendKind, port = 0): Promise<Backend> {
  return kind === "grpc-js" ? startGrpcBackend({ port }) : startConnectBackend({ port });
}

/** Gateway options for `backend`: upstream protocol by kind, descriptors for JSON to gRPC. */
export function gatewayOptions(kind: BackendKind, backend: Backend, extra: Partial<GatewayOptions> = {}): GatewayOptions {
  return {
    upstream: backend.url,
    upstreamProtocol: kind === "grpc-js" ? "grpc" : "connect",
    descriptors,
    port: 0,
    logLevel: "silent",
    ...extra,
  };
}

/** The client protocols of the matrix. */
export type ClientProtocol = "grpc" | "grpc-web" | "connect" | "connect-json";

export const clientProtocols: Array<[ClientProtocol]> = [["grpc"], ["grpc-web"], ["connect"], ["connect-json"]];

export function tunnelClient(gateway: Gateway, options: Partial<TunnelClientOptions> = {}): TunnelClient {
  return createTunnelClient({ url: gateway.tunnelUrl, WebSocket, ...options });
}

/** A Connect-ES transport of `protocol` over the tunnel client `tunnel`. */
export function transport(protocol: ClientProtocol, tunnel: TunnelClient): Transport {
  return createTransportOverTunnel({
    client: tunnel,
    protocol: protocol === "connect-json" ? "connect" : protocol,
    useBinaryFormat: protocol !== "connect-json",
  });
}

export function testClient(protocol: ClientProtocol, tunnel: TunnelClient): Client<typeof TestService> {
  return createClient(TestService, transport(protocol, tunnel));
}

/** The ConnectError a promise rejects with; fails the test if it resolves. */
export async function errorOf(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (e) {
    return ConnectError.from(e);
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/** Waits (vi.waitFor) until `check` is true; throws after `timeoutMs` naming `what`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  await vi.waitFor(
    async () => {
      if (!(await check())) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    },
    { timeout: timeoutMs, interval: 5 },
  );
}
