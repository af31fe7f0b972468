// Behind an HTTP/1.1-only reverse proxy (nginx): the tunnel works end to end, plain gRPC
// to the backend through the same proxy does not — which is why the tunnel exists.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { TestService } from "../demo/gen/swtunnel/test/v1/test_pb.js";
import { expect, openApp, swt, test } from "./fixtures.js";
import { metric, SERVICE_PATH } from "./support/env.js";
import { startNginx, type Nginx } from "./support/nginx.js";
import { closedPort } from "./support/tcp-proxy.js";

test("the whole path works through nginx; plain gRPC through it fails", async ({ page, env }) => {
  // The default admission: only the gateway's own origin, which behind nginx is nginx's.
  const port = await closedPort();
  const gateway = await env.startGateway({ allowOrigins: [], publicOrigin: `http://127.0.0.1:${port}` });
  let nginx: Nginx | undefined;
  try {
    nginx = await startNginx({ sitePort: env.site.port, gatewayPort: gateway.address.port, grpcPort: env.grpc.port, port });
    // Page, worker and tunnel all on the proxy's origin (default gateway: origin + /tunnel).
    await openApp(page, nginx.url, { match: [nginx.url + SERVICE_PATH], fallback: "error" });
    for (const kind of ["connect-bin", "connect-json", "grpc-web", "tunnel"] as const) {
      const r = await swt(page, "unary", kind, nginx.url, { text: `via nginx ${kind}` });
      expect(r.error, kind).toBeUndefined();
      expect(r.value).toMatchObject({ text: `via nginx ${kind}` });
    }
    const s = await swt(page, "serverStream", "grpc-web", nginx.url, { count: 5, intervalMs: 100 });
    expect(s.messages).toHaveLength(5);
    const c = await swt(page, "clientStream", "tunnel", nginx.url, 100, 100);
    expect(c.value).toMatchObject({ count: 100 });
    expect(await metric(gateway, "swtunnel_streams_total")).toBe(6);
    expect(await metric(gateway, "swtunnel_sockets_total")).toBe(1);

    const direct = createClient(TestService, createGrpcTransport({ baseUrl: nginx.url }));
    const err = await direct.unary({ text: "plain grpc" }, { timeoutMs: 5000 }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err).toBeInstanceOf(ConnectError);
    expect(err!.code).not.toBe(Code.DeadlineExceeded);
  } finally {
    await nginx?.close();
    await gateway.close(0);
  }
});
