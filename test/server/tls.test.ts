/**
 * TLS in the gateway (tlsCert/tlsKey): wss:// and https:// with a certificate made by
 * openssl at test time, a real grpc-js backend behind, the Node tunnel client in front.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createTransportOverTunnel, createTunnelClient } from "../../client/index.js";
import { type Backend, startGrpcBackend } from "../../demo/backend/index.js";
import { TestService } from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import { createGateway, type Gateway, OptionsError } from "../../server/index.js";
import { parseCli, UsageError } from "../../server/cli-args.js";
import { writeSelfSignedCert } from "../../tools/tls.js";

describe("TLS in the gateway", () => {
  let dir: string;
  let cert: Buffer;
  let key: Buffer;
  let backend: Backend;
  let gateway: Gateway;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "swtunnel-tls-"));
    const files = writeSelfSignedCert(dir);
    cert = await readFile(files.cert);
    key = await readFile(files.key);
    backend = await startGrpcBackend();
    gateway = await createGateway({ upstream: backend.url, port: 0, logLevel: "silent", tlsCert: cert, tlsKey: key });
  });

  afterAll(async () => {
    await gateway?.close(0);
    await backend?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves wss:// and https:// with the given certificate", async () => {
    expect(gateway.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(gateway.tunnelUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/tunnel$/);
    class TrustingWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { ca: cert });
      }
    }
    const tunnel = createTunnelClient({ url: gateway.tunnelUrl, WebSocket: TrustingWebSocket });
    try {
      const c = createClient(TestService, createTransportOverTunnel({ client: tunnel }));
      expect((await c.unary({ text: "over wss" })).text).toBe("over wss");
    } finally {
      tunnel.close();
    }
    const health = await new Promise<{ status?: number; body: string }>((resolve, reject) => {
      https
        .get(`${gateway.url}/healthz`, { ca: cert }, (res) => {
          let body = "";
          res.on("data", (d) => (body += d));
          res.on("end", () => resolve({ status: res.statusCode, body }));
        })
        .on("error", reject);
    });
    expect(health).toEqual({ status: 200, body: "ok\n" });
  });

  it("is really TLS: a client that does not trust the certificate is refused, a plain ws:// one gets no upgrade", async () => {
    const untrusting = new WebSocket(gateway.tunnelUrl, ["swtunnel.v1"]);
    const err = await new Promise<Error & { code?: string }>((resolve) => untrusting.once("error", resolve));
    expect(err.code).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
    const plain = new WebSocket(gateway.tunnelUrl.replace("wss:", "ws:"), ["swtunnel.v1"]);
    const plainErr = await new Promise<Error>((resolve) => plain.once("error", resolve));
    expect(plainErr).toBeInstanceOf(Error);
    expect(plain.readyState).not.toBe(WebSocket.OPEN);
  });

  it("refuses a certificate without its key, and a key that is not PEM, before opening a port", async () => {
    await expect(createGateway({ upstream: backend.url, port: 0, logLevel: "silent", tlsCert: cert })).rejects.toThrow(
      new OptionsError("tlsCert and tlsKey go together: give both (PEM certificate chain and its key) or neither, got only tlsCert"),
    );
    const bad = createGateway({ upstream: backend.url, port: 0, logLevel: "silent", tlsCert: cert, tlsKey: "not a key" });
    await expect(bad).rejects.toBeInstanceOf(OptionsError);
    await expect(bad).rejects.toThrow(/tlsCert\/tlsKey cannot be used .*give a PEM certificate chain and its matching PEM private key/);
  });

  it("takes --tls-cert/--tls-key files from the CLI, and SWTUNNEL_TLS_CERT/SWTUNNEL_TLS_KEY from the environment", () => {
    const files = { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") };
    const flags = parseCli(["gateway", "--upstream", backend.url, "--tls-cert", files.cert, "--tls-key", files.key], {});
    expect(flags.options?.tlsCert).toEqual(cert);
    expect(flags.options?.tlsKey).toEqual(key);
    const env = parseCli(["gateway"], { SWTUNNEL_UPSTREAM: backend.url, SWTUNNEL_TLS_CERT: files.cert, SWTUNNEL_TLS_KEY: files.key });
    expect(env.options?.tlsCert).toEqual(cert);
    expect(() => parseCli(["gateway", "--upstream", backend.url, "--tls-cert", join(dir, "missing.pem")], {})).toThrow(UsageError);
  });
});
