/**
 * A client or bidi stream the caller aborts before half-closing reaches the grpc-js test
 * backend as a cancel (grpc-js ends the request readable before it says "cancelled", which
 * the backend took for a clean end of the requests).
 */
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Backend } from "../../demo/backend/index.js";
import type { TunnelClient } from "../../client/index.js";
import { createGateway, type Gateway } from "../../server/index.js";
import { errorOf, gatewayOptions, startBackend, testClient, tunnelClient, until } from "./support.js";

let backend: Backend;
let gateway: Gateway;
let tunnel: TunnelClient;

beforeAll(async () => {
  backend = await startBackend("grpc-js");
  gateway = await createGateway(gatewayOptions("grpc-js", backend, {}));
  tunnel = tunnelClient(gateway);
});

afterAll(async () => {
  tunnel?.close();
  await gateway?.close(0);
  await backend?.close();
});

for (const method of ["clientStream", "bidi"] as const) {
  it(`${method}: an abort before the end of the requests is a cancel at the backend`, async () => {
    const client = testClient("grpc", tunnel);
    const id = `stream-cancel-${method}-${process.pid}`;
    const ac = new AbortController();
    const requests = (async function* () {
      yield { id, text: "open" };
      await new Promise(() => {}); // never half-closes
    })();
    const call =
      method === "clientStream"
        ? client.clientStream(requests, { signal: ac.signal })
        : (async () => {
            for await (const _ of client.bidi(requests, { signal: ac.signal }));
          })();
    await until(`the backend to see call ${id}`, () => backend.recorder.get(id).seen);
    ac.abort();
    expect((await errorOf(call)).code).toBe(Code.Canceled);
    expect(await backend.recorder.waitForCancel(id, 5_000)).toBe(true);
  });
}
