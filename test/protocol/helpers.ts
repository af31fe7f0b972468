/** Shared helpers for the protocol unit tests. */
import { expect } from "vitest";
import { ProtocolError, errorCodeName, type ErrorCode } from "../../protocol/index.js";

/** Asserts that `fn` throws a ProtocolError with `code` and `streamId`; returns it. */
export function expectProtocolError(fn: () => unknown, code: ErrorCode, streamId = 0): ProtocolError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, "expected a ProtocolError").toBeInstanceOf(ProtocolError);
  const err = caught as ProtocolError;
  expect(errorCodeName(err.code), err.message).toBe(errorCodeName(code));
  expect(err.streamId, err.message).toBe(streamId);
  expect(err.message.length).toBeGreaterThan(0);
  return err;
}

/** A raw frame: 6-byte header then `payload`. `streamId` is written as a raw u32. */
export function rawFrame(type: number, flags: number, streamId: number, payload: ArrayLike<number> = []): Uint8Array {
  const bytes = new Uint8Array(6 + payload.length);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, type);
  view.setUint8(1, flags);
  view.setUint32(2, streamId >>> 0);
  bytes.set(payload, 6);
  return bytes;
}

/** Concatenates byte sources: numbers are single bytes, strings are UTF-8. */
export function bytesOf(...parts: Array<number | string | ArrayLike<number>>): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === "number") out.push(p);
    else if (typeof p === "string") out.push(...new TextEncoder().encode(p));
    else out.push(...Array.from(p));
  }
  return Uint8Array.from(out);
}

export const u16 = (n: number) => [(n >>> 8) & 0xff, n & 0xff];
export const u32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

/** One header entry in block form: name length u16, name, value length u32, value. */
export function entry(name: string | ArrayLike<number>, value: string | ArrayLike<number>): Uint8Array {
  const n = typeof name === "string" ? new TextEncoder().encode(name) : Uint8Array.from(name);
  const v = typeof value === "string" ? new TextEncoder().encode(value) : Uint8Array.from(value);
  return bytesOf(u16(n.length), n, u32(v.length), v);
}
