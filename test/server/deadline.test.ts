/** The deadline a request asks for, and the gateway's cap on it (pure). */
import { describe, expect, it } from "vitest";
import { callDeadline, requestTimeoutMs } from "../../server/deadline.js";

describe("requestTimeoutMs", () => {
  it("reads grpc-timeout in every unit and connect-timeout-ms", () => {
    expect(requestTimeoutMs([["grpc-timeout", "2H"]])).toBe(7_200_000);
    expect(requestTimeoutMs([["grpc-timeout", "3M"]])).toBe(180_000);
    expect(requestTimeoutMs([["grpc-timeout", "5S"]])).toBe(5000);
    expect(requestTimeoutMs([["grpc-timeout", "250m"]])).toBe(250);
    expect(requestTimeoutMs([["grpc-timeout", "1500u"]])).toBeCloseTo(1.5);
    expect(requestTimeoutMs([["grpc-timeout", "99999999n"]])).toBeCloseTo(99.999999);
    expect(requestTimeoutMs([["connect-timeout-ms", "1234567890"]])).toBe(1_234_567_890);
  });

  it("takes the smallest of several, and ignores malformed values and other headers", () => {
    expect(
      requestTimeoutMs([
        ["grpc-timeout", "10S"],
        ["connect-timeout-ms", "300"],
      ]),
    ).toBe(300);
    for (const bad of ["", "5", "S", "123456789S", "5s", "-5S", "5 S", "1.5S"])
      expect(requestTimeoutMs([["grpc-timeout", bad]])).toBeUndefined();
    for (const bad of ["", "12345678901", "1e3", "-1", " 5"]) expect(requestTimeoutMs([["connect-timeout-ms", bad]])).toBeUndefined();
    expect(requestTimeoutMs([["x-timeout", "5S"]])).toBeUndefined();
  });
});

describe("callDeadline", () => {
  it("is the request's deadline unless the gateway's maximum is sooner", () => {
    expect(callDeadline([["grpc-timeout", "200m"]], 0)).toEqual({
      ms: 200,
      message: "deadline of 200 ms set by the request (grpc-timeout / connect-timeout-ms) expired at the gateway",
    });
    expect(callDeadline([["grpc-timeout", "200m"]], 1000)?.ms).toBe(200);
    expect(callDeadline([["grpc-timeout", "5S"]], 1000)).toEqual({
      ms: 1000,
      message: "call ran longer than the gateway's maximum call duration of 1000 ms (maxCallDurationMs)",
    });
    expect(callDeadline([], 1000)?.ms).toBe(1000);
    expect(callDeadline([], 0)).toBeUndefined();
    expect(callDeadline([["grpc-timeout", "1u"]], 0)?.ms).toBe(1); // rounded up: a timer of 0 would not be a deadline
  });
});
