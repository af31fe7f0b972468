import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  ErrorCode,
  decodeHeaderBlock,
  encodeHeaderBlock,
  encodedHeaderBlock,
  isValidHeaderName,
  isValidHeaderValue,
  type HeaderList,
} from "../../protocol/index.js";
import { bytesOf, entry, expectProtocolError, u16 } from "./helpers.js";

describe("header block codec", () => {
  it("encodes the documented layout: count u16, then name len u16 / name / value len u32 / value", () => {
    expect(Array.from(encodeHeaderBlock([["ab", "xyz"]]))).toEqual([0, 1, 0, 2, 0x61, 0x62, 0, 0, 0, 3, 0x78, 0x79, 0x7a]);
    expect(Array.from(encodeHeaderBlock([]))).toEqual([0, 0]);
  });

  it("round-trips many headers", () => {
    const headers: HeaderList = Array.from({ length: 2000 }, (_, i) => [`x-header-${i}`, `value ${i} \t with tab`]);
    const block = encodeHeaderBlock(headers);
    expect(block.length).toBe(encodedHeaderBlock(headers).size);
    expect(decodeHeaderBlock(block)).toEqual(headers);
  });

  it("keeps repeated names as separate entries, in order", () => {
    const headers: HeaderList = [
      ["set-cookie", "a=1"],
      ["x-other", "o"],
      ["set-cookie", "b=2"],
      ["set-cookie", "c=3"],
    ];
    expect(decodeHeaderBlock(encodeHeaderBlock(headers))).toEqual(headers);
  });

  it("carries -bin values (base64 of random bytes) exactly", () => {
    for (let i = 0; i < 50; i++) {
      const raw = randomBytes(i * 7);
      const headers: HeaderList = [
        ["grpc-status-details-bin", raw.toString("base64")],
        ["x-trace-bin", raw.toString("base64").replace(/=+$/, "")],
      ];
      const decoded = decodeHeaderBlock(encodeHeaderBlock(headers));
      expect(decoded).toEqual(headers);
      expect(Buffer.from(decoded[0]![1], "base64").equals(raw)).toBe(true);
    }
  });

  it("keeps empty values and whitespace in values", () => {
    const headers: HeaderList = [
      ["a", ""],
      ["b", " "],
      ["c", "\t x \t"],
      ["d", ""],
    ];
    expect(decodeHeaderBlock(encodeHeaderBlock(headers))).toEqual(headers);
  });

  it("carries any Unicode in values, byte length as the length field", () => {
    const headers: HeaderList = [["grpc-message", "\u00e9\u4e2d\u{1F600}\uFEFF"]];
    const block = encodeHeaderBlock(headers);
    // 2 count + 2 name len + 12 name + 4 value len + (2 + 3 + 4 + 3) value bytes
    expect(block.length).toBe(2 + 2 + 12 + 4 + 12);
    expect(decodeHeaderBlock(block)).toEqual(headers);
  });

  it("decodes a block inside a larger buffer between offset and end", () => {
    const block = encodeHeaderBlock([["k", "v"]]);
    const outer = bytesOf(9, 9, 9, block, 9);
    expect(decodeHeaderBlock(outer, 3, 3 + block.length)).toEqual([["k", "v"]]);
  });

  it("reports errors with the stream id it was given", () => {
    expectProtocolError(() => decodeHeaderBlock(bytesOf(u16(1)), 0, 2, 41), ErrorCode.PROTOCOL_ERROR, 41);
    expectProtocolError(() => decodeHeaderBlock(bytesOf(u16(1), entry("A", "")), 0, undefined, 0), ErrorCode.PROTOCOL_ERROR, 0);
  });

  it("accepts every tchar in names and no other ASCII character", () => {
    const tchar = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz";
    expect(isValidHeaderName(tchar)).toBe(true);
    for (let c = 0; c < 0x80; c++) {
      const ch = String.fromCharCode(c);
      expect(isValidHeaderName(ch), `char 0x${c.toString(16)}`).toBe(tchar.includes(ch));
    }
    expect(isValidHeaderName("")).toBe(false);
    expect(isValidHeaderName("\u00e9")).toBe(false);
  });

  it("rejects only NUL, CR and LF in values", () => {
    for (let c = 0; c < 0x80; c++) {
      expect(isValidHeaderValue(`a${String.fromCharCode(c)}b`), `char 0x${c.toString(16)}`).toBe(c !== 0 && c !== 0x0a && c !== 0x0d);
    }
  });

  describe("limits", () => {
    it("65535 entries fit, 65536 do not (HEADER_BLOCK_TOO_LARGE)", () => {
      const max: HeaderList = Array.from({ length: 0xffff }, () => ["a", ""]);
      expect(decodeHeaderBlock(encodeHeaderBlock(max))).toHaveLength(0xffff);
      expectProtocolError(() => encodeHeaderBlock([...max, ["a", ""]]), ErrorCode.HEADER_BLOCK_TOO_LARGE);
    });

    it("a 65535-byte name fits, 65536 does not (HEADER_BLOCK_TOO_LARGE)", () => {
      const name = "n".repeat(0xffff);
      expect(decodeHeaderBlock(encodeHeaderBlock([[name, "v"]]))).toEqual([[name, "v"]]);
      expectProtocolError(() => encodeHeaderBlock([[`${name}n`, "v"]]), ErrorCode.HEADER_BLOCK_TOO_LARGE);
    });

    it("a value may be larger than 65535 bytes (u32 length)", () => {
      const value = "v".repeat(0x10000 + 3);
      const block = encodeHeaderBlock([["big", value]]);
      expect(decodeHeaderBlock(block)).toEqual([["big", value]]);
    });

    it("rejects invalid names and values on encode (PROTOCOL_ERROR)", () => {
      for (const name of ["", "Upper", "sp ace", ":path", "a\u00e9"])
        expectProtocolError(() => encodeHeaderBlock([[name, "v"]]), ErrorCode.PROTOCOL_ERROR);
      for (const value of ["\0", "a\r", "\nb"]) expectProtocolError(() => encodeHeaderBlock([["a", value]]), ErrorCode.PROTOCOL_ERROR);
    });
  });
});
