import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type Gateway } from "../../server/index.js";
import { RawClient, grpcHeaders, upgradeByHand, header, startH2Backend, type H2Backend } from "./helpers.js";
import { startNginx, type Nginx } from "./nginx.js";

let backend: H2Backend;
let gateway: Gateway;
let nginx: Nginx;
const clients: RawClient[] = [];
/** The gateway's log lines, parsed. */
const logs: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  backend = await startH2Backend();
  gateway = await createGateway({
    upstream: backend.url,
    port: 0,
    logger: pino({ level: "info" }, { write: (line: string) => void logs.push(JSON.parse(line)) }),
    trustProxy: ["127.0.0.1"], // nginx connects from 127.0.0.1; clients use 127.0.0.2.. as their own addresses
    maxSocketsPerIp: 100,
  });
  nginx = await startNginx(gateway.address.port);
});
afterAll(async () => {
  for (const c of clients) c.close();
  await nginx?.close();
  await gateway?.close(100);
  await backend?.close();
});

async function open(url: string, localAddress: string, headers?: Record<string, string>): Promise<RawClient> {
  const c = await RawClient.connect(url, { localAddress, headers });
  clients.push(c);
  return c;
}

/** What x-forwarded-for the backend receives for a call on `c`. */
async function forwardedFor(c: RawClient): Promise<string | undefined> {
  c.send(grpcHeaders(1, "/test.Raw/Headers", true));
  const r = await c.collect(1);
  expect(header(r.trailers, "grpc-status")).toBe("0");
  return backend.lastHeaders?.["x-forwarded-for"] as string | undefined;
}

describe("trustProxy behind nginx", () => {
  it("admits 150 clients through one proxy; the per-IP limit applies per forwarded address", async () => {
    for (let batch = 0; batch < 150; batch += 25) {
      await Promise.all(Array.from({ length: 25 }, (_, i) => open(nginx.tunnelUrl, batch + i < 100 ? "127.0.0.2" : "127.0.0.3")));
    }
    expect(gateway.stats().sockets).toBe(150);
    // 127.0.0.2 is at its limit, though every socket's TCP peer is nginx.
    expect(await upgradeByHand(nginx.tunnelUrl, { localAddress: "127.0.0.2" })).toMatchObject({
      status: 429,
      body: "address 127.0.0.2 is at its limit of 100 sockets\n",
    });
    // A client that claims to be someone else before nginx is still itself (nginx appends the real address).
    const liar = await open(nginx.tunnelUrl, "127.0.0.3", { "x-forwarded-for": "127.0.0.9" });
    expect(await forwardedFor(liar)).toBe("127.0.0.3, 127.0.0.1");
    expect(gateway.stats().sockets).toBe(151);
  });

  it("ignores forwarding headers from a peer that is not a trusted proxy", async () => {
    const direct = await open(gateway.tunnelUrl, "127.0.0.4", { "x-forwarded-for": "127.0.0.2", forwarded: "for=127.0.0.2" });
    // Counted and forwarded as 127.0.0.4 (127.0.0.2 is full, so a believed header would have been refused).
    expect(await forwardedFor(direct)).toBe("127.0.0.4");
  });

  it("through nginx the backend sees the client, then the proxy", async () => {
    const c = await open(nginx.tunnelUrl, "127.0.0.5");
    expect(await forwardedFor(c)).toBe("127.0.0.5, 127.0.0.1");
    // The log names the client, and the proxy it came through.
    expect(logs.filter((l) => l.msg === "socket open" && l.remote === "127.0.0.5")).toEqual([
      expect.objectContaining({ remote: "127.0.0.5", peer: "127.0.0.1" }),
    ]);
  });
});
