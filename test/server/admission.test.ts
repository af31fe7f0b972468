/**
 * Default admission: without allowOrigins the gateway admits only its own origin, from
 * publicOrigin or its listen address, compared exactly; never from the client's Host. On
 * a wildcard address with neither, browser upgrades get 403 naming --allow-origin.
 */
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkOrigin, ownOrigin } from "../../server/admission.js";
import { createGateway, type Gateway, type GatewayOptions } from "../../server/index.js";
import { OptionsError, resolveOptions } from "../../server/options.js";
import { RawClient, startH2Backend, type H2Backend } from "./helpers.js";

const silent = pino({ level: "silent" });
let backend: H2Backend;
beforeAll(async () => {
  backend = await startH2Backend();
});
afterAll(async () => {
  await backend.close();
});

async function withGateway(options: Partial<GatewayOptions>, fn: (gw: Gateway) => Promise<void>): Promise<void> {
  const gw = await createGateway({ upstream: backend.url, port: 0, logger: silent, ...options });
  try {
    await fn(gw);
  } finally {
    await gw.close(100);
  }
}

/** HTTP status of a refused upgrade, or 101 when it was admitted. */
async function upgrade(url: string, origin: string | undefined, headers?: Record<string, string>): Promise<number> {
  try {
    const c = await RawClient.connect(url, { origin, headers });
    c.close();
    return 101;
  } catch (e) {
    return Number(/HTTP (\d+)/.exec(String(e))?.[1] ?? 0);
  }
}

describe("own origin by default", () => {
  it("admits exactly http://<listen address>; other scheme, port or host are refused", async () => {
    await withGateway({ host: "127.0.0.1" }, async (gw) => {
      const port = gw.address.port;
      expect(await upgrade(gw.tunnelUrl, `http://127.0.0.1:${port}`)).toBe(101);
      expect(await upgrade(gw.tunnelUrl, `https://127.0.0.1:${port}`)).toBe(403);
      expect(await upgrade(gw.tunnelUrl, `ftp://127.0.0.1:${port}`)).toBe(403);
      expect(await upgrade(gw.tunnelUrl, `http://127.0.0.1:${port + 1}`)).toBe(403);
      expect(await upgrade(gw.tunnelUrl, `http://localhost:${port}`)).toBe(403);
      expect(await upgrade(gw.tunnelUrl, "null")).toBe(403);
      // No Origin: not a browser (allowNoOrigin, the default).
      expect(await upgrade(gw.tunnelUrl, undefined)).toBe(101);
    });
  });

  it("DNS rebinding: a page on evil.example whose name points here sends a matching Host; refused", async () => {
    await withGateway({}, async (gw) => {
      const host = `evil.example:${gw.address.port}`;
      expect(await upgrade(gw.tunnelUrl, `http://${host}`, { host })).toBe(403);
    });
  });

  it("publicOrigin replaces the listen address", async () => {
    await withGateway({ publicOrigin: "https://app.example.com" }, async (gw) => {
      expect(await upgrade(gw.tunnelUrl, "https://app.example.com")).toBe(101);
      expect(await upgrade(gw.tunnelUrl, "https://app.example.com:443")).toBe(101); // the same origin, normalized
      expect(await upgrade(gw.tunnelUrl, "http://app.example.com")).toBe(403);
      expect(await upgrade(gw.tunnelUrl, `http://127.0.0.1:${gw.address.port}`)).toBe(403);
    });
  });

  it("on a wildcard address with neither option, browsers get 403 naming --allow-origin", async () => {
    await withGateway({ host: "0.0.0.0" }, async (gw) => {
      const url = `ws://127.0.0.1:${gw.address.port}/tunnel`;
      expect(await upgrade(url, `http://127.0.0.1:${gw.address.port}`)).toBe(403);
      expect(await upgrade(url, undefined)).toBe(101);
    });
    const refusal = checkOrigin("https://app.example.com", { allowOrigins: [], allowNoOrigin: true, ownOrigin: undefined });
    expect(refusal?.status).toBe(403);
    expect(refusal?.reason).toContain("set --allow-origin https://app.example.com");
  });

  it("allowOrigins '*' admits any origin; a list admits exactly its entries", async () => {
    await withGateway({ host: "0.0.0.0", allowOrigins: ["*"] }, async (gw) => {
      expect(await upgrade(`ws://127.0.0.1:${gw.address.port}/tunnel`, "https://anything.example")).toBe(101);
    });
    await withGateway({ allowOrigins: ["https://a.example:8443"] }, async (gw) => {
      expect(await upgrade(gw.tunnelUrl, "https://a.example:8443")).toBe(101);
      expect(await upgrade(gw.tunnelUrl, "https://a.example")).toBe(403);
      expect(await upgrade(gw.tunnelUrl, `http://127.0.0.1:${gw.address.port}`)).toBe(403); // the list replaces the default
    });
  });
});

describe("ownOrigin and option checks", () => {
  it("derives the origin from the listen address, never for wildcards", () => {
    expect(ownOrigin(undefined, "127.0.0.1", 8080)).toBe("http://127.0.0.1:8080");
    expect(ownOrigin(undefined, "::1", 8080)).toBe("http://[::1]:8080");
    expect(ownOrigin(undefined, "localhost", 80)).toBe("http://localhost");
    expect(ownOrigin(undefined, "0.0.0.0", 8080)).toBeUndefined();
    expect(ownOrigin(undefined, "::", 8080)).toBeUndefined();
    expect(ownOrigin("https://x.example", "0.0.0.0", 8080)).toBe("https://x.example");
  });

  it("refuses origins with paths, '*' mixed with others, and bad trustProxy entries", () => {
    const bad = (o: Partial<GatewayOptions>) => () => resolveOptions({ upstream: "http://127.0.0.1:1", ...o });
    expect(bad({ publicOrigin: "https://x.example/app" })).toThrow(OptionsError);
    expect(bad({ allowOrigins: ["*", "https://x.example"] })).toThrow(/give it alone/);
    expect(bad({ trustProxy: ["10.0.0.0/40"] })).toThrow(/trustProxy entry/);
    expect(bad({ clientAddressHeader: "x forwarded" })).toThrow(/clientAddressHeader/);
    expect(bad({ adminListen: "nope" })).toThrow(/adminListen must be host:port/);
  });
});
