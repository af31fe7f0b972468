// The worker's own error type and error bytes (sw/code.ts, sw/errors.ts,
// sw/rpc-error-wire.ts) against the @connectrpc/connect code they stand in for.
import { Code as ConnectCode, ConnectError } from "@connectrpc/connect";
import { encodeEnvelope as connectEnvelope } from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus as connectHttpStatus,
  codeToString as connectCodeToString,
  endStreamFlag,
  endStreamToJson,
  errorToJsonBytes as connectErrorToJsonBytes,
} from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus as connectSetTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerSerialize as connectTrailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import { describe, expect, it } from "vitest";
import { Code, codeName, codeToString } from "../../client/code.js";
import { toConnectError } from "../../client/connect-client.js";
import { TunnelError, isRpcError, toTunnelError } from "../../client/errors.js";
import {
  END_STREAM_FLAG,
  TRAILER_FLAG,
  codeToHttpStatus,
  encodeEnvelope,
  endStreamEnvelope,
  errorToJsonBytes,
  setTrailerStatus,
  trailerSerialize,
} from "../../sw/rpc-error-wire.js";

const allCodes = Object.values(Code);
const numbers = [0, ...allCodes, 17, 99];

describe("Code", () => {
  it("has Connect's names and numbers, and Connect's wire names", () => {
    const connectNames = Object.keys(ConnectCode).filter((k) => Number.isNaN(Number(k)));
    expect(Object.keys(Code)).toEqual(connectNames);
    for (const name of connectNames) expect(Code[name as keyof typeof Code]).toBe(ConnectCode[name as keyof typeof ConnectCode]);
    for (const n of numbers) {
      expect(codeToString(n)).toBe(connectCodeToString(n));
      expect(codeName(n)).toBe(ConnectCode[n]);
      expect(codeToHttpStatus(n)).toBe(connectHttpStatus(n));
    }
  });
});

describe("TunnelError", () => {
  it("passes instanceof ConnectError, keeps its code through ConnectError.from, and reads the same", () => {
    for (const code of allCodes) {
      for (const message of ["", "gateway gone"]) {
        const e = new TunnelError(message, code);
        const c = new ConnectError(message, code);
        expect(e).toBeInstanceOf(ConnectError);
        expect(e).toBeInstanceOf(Error);
        expect(ConnectError.from(e)).toBe(e);
        expect([e.name, e.message, e.rawMessage, e.code, e.details, e.isWireError]).toEqual([
          c.name,
          c.message,
          c.rawMessage,
          c.code,
          c.details,
          c.isWireError,
        ]);
      }
    }
    expect(new TunnelError("x").code).toBe(Code.Unknown);
  });

  it("toTunnelError follows ConnectError.from", () => {
    const connectErr = new ConnectError("real", ConnectCode.NotFound);
    const tunnelErr = new TunnelError("ours", Code.DataLoss);
    const abort = Object.assign(new Error("stop"), { name: "AbortError" });
    const timeout = Object.assign(new Error("late"), { name: "TimeoutError" });
    const plain = new Error("plain");
    expect(toTunnelError(connectErr)).toBe(connectErr);
    expect(toTunnelError(tunnelErr)).toBe(tunnelErr);
    for (const [reason, code] of [[abort], [timeout], [plain], [plain, Code.Internal], ["text"], [42, Code.Aborted]] as [
      unknown,
      Code?,
    ][]) {
      const ours = toTunnelError(reason, code);
      const theirs = ConnectError.from(reason, code as ConnectCode | undefined);
      expect([ours.code, ours.message, ours.rawMessage, ours.cause]).toEqual([
        theirs.code,
        theirs.message,
        theirs.rawMessage,
        theirs.cause,
      ]);
    }
    expect(isRpcError(Object.assign(new Error("x"), { name: "ConnectError", code: 3 }))).toBe(false);
  });

  it("becomes a real ConnectError at the Connect boundary, with code, message, metadata and cause", () => {
    const cause = new Error("why");
    const e = new TunnelError("lost", Code.Unavailable, { metadata: { "x-a": "1" }, cause });
    const c = toConnectError(e) as ConnectError;
    expect(Object.getPrototypeOf(c)).toBe(ConnectError.prototype);
    expect([c.code, c.message, c.rawMessage, c.metadata.get("x-a"), c.cause]).toEqual([
      ConnectCode.Unavailable,
      e.message,
      "lost",
      "1",
      cause,
    ]);
    const other = new Error("not ours");
    expect(toConnectError(other)).toBe(other);
  });
});

describe("rpc-error-wire", () => {
  const metadata = { "x-custom": "a", "grpc-status": "3", "content-type": "x", "connect-timeout-ms": "5" };
  const cases = allCodes.flatMap((code) => [
    [new TunnelError(`m ${code} ü %/\n`, code), new ConnectError(`m ${code} ü %/\n`, code)],
    [new TunnelError("", code, { metadata }), new ConnectError("", code, metadata)],
  ]);

  it("writes the bytes Connect writes, for every code, with and without metadata", () => {
    expect([END_STREAM_FLAG, TRAILER_FLAG]).toEqual([endStreamFlag, trailerFlag]);
    for (const [ours, theirs] of cases) {
      expect(errorToJsonBytes(ours!)).toEqual(connectErrorToJsonBytes(theirs as ConnectError, undefined));
      const json = new TextEncoder().encode(JSON.stringify(endStreamToJson(new Headers(), theirs as ConnectError, undefined)));
      expect(endStreamEnvelope(ours!)).toEqual(connectEnvelope(endStreamFlag, json));
      const a = setTrailerStatus(new Headers({ "x-pre": "1" }), ours!);
      const b = connectSetTrailerStatus(new Headers({ "x-pre": "1" }), theirs as ConnectError);
      expect([...a]).toEqual([...b]);
      expect(encodeEnvelope(TRAILER_FLAG, trailerSerialize(a))).toEqual(connectEnvelope(trailerFlag, connectTrailerSerialize(b)));
    }
  });

  it("leaves out the metadata of an error parsed from the wire, as Connect does", () => {
    const ours = Object.assign(new TunnelError("w", Code.Internal, { metadata }), { isWireError: true });
    const theirs = Object.assign(new ConnectError("w", ConnectCode.Internal, metadata), { isWireError: true });
    const json = new TextEncoder().encode(JSON.stringify(endStreamToJson(new Headers(), theirs, undefined)));
    expect(endStreamEnvelope(ours)).toEqual(connectEnvelope(endStreamFlag, json));
    expect([...setTrailerStatus(new Headers(), ours)]).toEqual([...connectSetTrailerStatus(new Headers(), theirs)]);
  });
});
