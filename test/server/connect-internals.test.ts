/**
 * The Connect-ES functions behind server/adapters/connect-internals.ts are `@private` in
 * Connect-ES (no semver). This test pins what the gateway relies on: that each exists,
 * takes the same number of arguments and gives the same output on a known input, and that
 * the installed version is the exact one package.json pins. A failure after an upgrade
 * means: read the new Connect-ES source, adapt connect-internals.ts or its callers, then
 * update the expectations here.
 */
import { readFileSync } from "node:fs";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import * as internals from "../../server/adapters/connect-internals.js";
import { fromRoot } from "../../tools/paths.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function* chunks(...parts: Uint8Array[]): AsyncIterable<Uint8Array> {
  yield* parts;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe("Connect-ES internals the gateway uses", () => {
  it("are installed at exactly the version package.json pins", () => {
    const pkg = JSON.parse(readFileSync(fromRoot("package.json"), "utf8")) as { dependencies: Record<string, string> };
    for (const name of ["@connectrpc/connect", "@connectrpc/connect-node", "@connectrpc/connect-web"]) {
      const pinned = pkg.dependencies[name];
      expect(pinned, `${name} must be pinned to an exact version (no ^ or ~)`).toMatch(/^\d+\.\d+\.\d+$/);
      const installed = JSON.parse(readFileSync(fromRoot(`node_modules/${name}/package.json`), "utf8")) as { version: string };
      expect(installed.version, `${name} installed`).toBe(pinned);
    }
  });

  it("each export is still a function of the same arity (or a constant of the same value)", () => {
    const arity: Record<string, number> = {
      encodeEnvelope: 2,
      readAllBytes: 3,
      transformSplitEnvelope: 1,
      codeFromString: 1,
      codeToHttpStatus: 1,
      endStreamToJson: 3,
      errorToJsonBytes: 2,
      parseConnectContentType: 1,
      parseConnectTimeout: 2,
      codeFromHttpStatus: 1,
      findTrailerError: 1,
      parseGrpcContentType: 1,
      setTrailerStatus: 2,
      parseGrpcWebContentType: 1,
      trailerSerialize: 1,
    };
    const exported = internals as unknown as Record<string, unknown>;
    for (const [name, n] of Object.entries(arity)) {
      expect(typeof exported[name], name).toBe("function");
      expect((exported[name] as (...a: unknown[]) => unknown).length, `${name} arity`).toBe(n);
    }
    expect(internals.compressedFlag).toBe(0b01);
    expect(internals.endStreamFlag).toBe(0b10);
    expect(internals.trailerFlag).toBe(0x80);
    // Nothing exported that this test does not know about.
    expect(Object.keys(exported).sort()).toEqual([...Object.keys(arity), "compressedFlag", "endStreamFlag", "trailerFlag"].sort());
  });

  it("envelopes: encodeEnvelope writes flag + u32 length, transformSplitEnvelope reads them back across chunk borders", async () => {
    const env = internals.encodeEnvelope(1, bytes("hi"));
    expect([...env]).toEqual([1, 0, 0, 0, 2, 0x68, 0x69]);
    const two = new Uint8Array([...env, ...internals.encodeEnvelope(0, bytes("abc"))]);
    const split = await collect(internals.transformSplitEnvelope(100)(chunks(two.subarray(0, 3), two.subarray(3, 9), two.subarray(9))));
    expect(split.map((e) => [e.flags, text(e.data)])).toEqual([
      [1, "hi"],
      [0, "abc"],
    ]);
    await expect(collect(internals.transformSplitEnvelope(2)(chunks(internals.encodeEnvelope(0, bytes("abc")))))).rejects.toMatchObject({
      code: Code.ResourceExhausted,
    });
  });

  it("readAllBytes concatenates and enforces its limit with resource_exhausted", async () => {
    expect(text(await internals.readAllBytes(chunks(bytes("ab"), bytes("c")), 3))).toBe("abc");
    await expect(internals.readAllBytes(chunks(bytes("ab"), bytes("cd")), 3)).rejects.toMatchObject({ code: Code.ResourceExhausted });
  });

  it("content types: each protocol's parseContentType", () => {
    expect(internals.parseConnectContentType("application/proto")).toEqual({ stream: false, binary: true });
    expect(internals.parseConnectContentType("application/connect+json")).toEqual({ stream: true, binary: false });
    expect(internals.parseConnectContentType("application/grpc")).toBeUndefined();
    expect(internals.parseGrpcContentType("application/grpc")).toEqual({ binary: true });
    expect(internals.parseGrpcContentType("application/grpc+json")).toEqual({ binary: false });
    expect(internals.parseGrpcWebContentType("application/grpc-web-text+proto")).toEqual({ text: true, binary: true });
    expect(internals.parseGrpcWebContentType("application/grpc-web+json")).toEqual({ text: false, binary: false });
    expect(internals.parseGrpcWebContentType("application/grpc-web+thrift")).toBeUndefined();
  });

  it("parseConnectTimeout reads 1 to 10 digits and flags the rest", () => {
    expect(internals.parseConnectTimeout("1500", Number.MAX_SAFE_INTEGER)).toEqual({ timeoutMs: 1500 });
    expect(internals.parseConnectTimeout(null, 10)).toEqual({});
    expect(internals.parseConnectTimeout("12345678901", Number.MAX_SAFE_INTEGER).error?.code).toBe(Code.InvalidArgument);
    expect(internals.parseConnectTimeout("-1", Number.MAX_SAFE_INTEGER).error?.code).toBe(Code.InvalidArgument);
  });

  it("codes: string names and HTTP statuses", () => {
    expect(internals.codeFromString("deadline_exceeded")).toBe(Code.DeadlineExceeded);
    expect(internals.codeFromString("nonsense")).toBeUndefined();
    expect(internals.codeToHttpStatus(Code.NotFound)).toBe(404);
    expect(internals.codeToHttpStatus(Code.Unavailable)).toBe(503);
    expect(internals.codeFromHttpStatus(503)).toBe(Code.Unavailable);
    expect(internals.codeFromHttpStatus(404)).toBe(Code.Unimplemented);
  });

  it("gRPC status: setTrailerStatus writes and findTrailerError reads the same status", () => {
    const headers = internals.setTrailerStatus(new Headers(), new ConnectError("who? you", Code.NotFound));
    expect(headers.get("grpc-status")).toBe("5");
    expect(headers.get("grpc-message")).toBe("who%3F%20you");
    const error = internals.findTrailerError(headers);
    expect(error?.code).toBe(Code.NotFound);
    expect(error?.rawMessage).toBe("who? you");
    expect(internals.setTrailerStatus(new Headers(), undefined).get("grpc-status")).toBe("0");
    expect(internals.findTrailerError(new Headers({ "grpc-status": "0" }))).toBeUndefined();
  });

  it("gRPC-Web trailers: trailerSerialize writes name: value lines", () => {
    expect(text(internals.trailerSerialize(new Headers({ "grpc-status": "0", "x-a": "b" })))).toBe("grpc-status: 0\r\nx-a: b\r\n");
  });

  it("Connect errors: errorToJsonBytes and endStreamToJson", () => {
    const error = new ConnectError("slow down", Code.ResourceExhausted);
    expect(JSON.parse(text(internals.errorToJsonBytes(error, {})))).toEqual({ code: "resource_exhausted", message: "slow down" });
    expect(internals.endStreamToJson(new Headers({ "x-m": "m" }), error, {})).toEqual({
      error: { code: "resource_exhausted", message: "slow down" },
      metadata: { "x-m": ["m"] },
    });
    expect(internals.endStreamToJson(new Headers(), undefined, {})).toEqual({});
  });
});
