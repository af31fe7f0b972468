import { describe, expect, it } from "vitest";
import { isWasmwsFailure, parseGoDuration, parseWasmwsLine, portFromBuild } from "../../bench/wasmws-line.js";

describe("parseGoDuration", () => {
  it("reads the units Go's time.Duration prints, in µs", () => {
    expect(parseGoDuration("770.123µs")).toBeCloseTo(770.123, 6);
    expect(parseGoDuration("1.318092ms")).toBeCloseTo(1318.092, 6);
    expect(parseGoDuration("950ns")).toBeCloseTo(0.95, 6);
    expect(parseGoDuration("2.5s")).toBe(2_500_000);
    expect(parseGoDuration("1m2.5s")).toBe(62_500_000);
    expect(parseGoDuration("12μs")).toBe(12); // Greek mu, as some Go versions print it
  });

  it("refuses what is not a duration", () => {
    for (const bad of ["", "12", "ms", "1.2.3ms", "12 ms", "12xs", "-5ms"]) {
      expect(() => parseGoDuration(bad), bad).toThrow(/not a Go duration/);
    }
  });
});

describe("parseWasmwsLine", () => {
  it("parses the demo's SUCCESS line", () => {
    expect(parseWasmwsLine("SUCCESS running 8192 transactions! (average 770.123µs per operation)")).toEqual({
      calls: 8192,
      usPerCall: 770.123,
    });
    expect(parseWasmwsLine("SUCCESS running 8192 transactions! (average 1.05ms per operation)\n")).toEqual({
      calls: 8192,
      usPerCall: 1050,
    });
  });

  it("ignores other console lines", () => {
    expect(parseWasmwsLine("Go program has already exited")).toBeUndefined();
    expect(parseWasmwsLine("SUCCESS")).toBeUndefined();
  });

  it("throws on a SUCCESS line whose duration does not parse", () => {
    expect(() => parseWasmwsLine("SUCCESS running 8192 transactions! (average soon per operation)")).toThrow(/not a Go duration/);
  });
});

describe("isWasmwsFailure", () => {
  it("recognises the client's fatal log lines and a non-zero exit", () => {
    expect(isWasmwsFailure("2026/12/02 17:00:00 Could not gRPC dial: ws://127.0.0.1:1/grpc-proxy; Details: refused")).toBe(true);
    expect(isWasmwsFailure("2026/12/02 17:00:00 Test transaction 17 failed; Details: deadline")).toBe(true);
    expect(isWasmwsFailure("exit code: 1")).toBe(true);
    expect(isWasmwsFailure("panic: runtime error")).toBe(true);
  });

  it("does not flag the success line or a clean exit", () => {
    expect(isWasmwsFailure("SUCCESS running 8192 transactions! (average 1ms per operation)")).toBe(false);
    expect(isWasmwsFailure("exit code: 0")).toBe(false);
  });
});

describe("portFromBuild", () => {
  it("finds the port build.sh baked into the client", () => {
    const wasm = `\u0000\u0001garbage ws://127.0.0.1:40123/grpc-proxy more\u0000`;
    expect(portFromBuild(wasm)).toBe(40123);
    expect(portFromBuild('const websocketURL = "ws://127.0.0.1:8081/grpc-proxy"')).toBe(8081);
  });

  it("is undefined when the URL is absent or the port impossible", () => {
    expect(portFromBuild('"ws://localhost:8080/grpc-proxy"')).toBeUndefined();
    expect(portFromBuild("ws://127.0.0.1:99999/grpc-proxy")).toBeUndefined();
    expect(portFromBuild("ws://127.0.0.1:0/grpc-proxy")).toBeUndefined();
  });
});
