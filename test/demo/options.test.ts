/** The demo's command line (demo/options.ts): values, defaults, --help and "did you mean". */
import { describe, expect, it } from "vitest";
import { DEMO_FLAGS, demoHelp, parseDemoArgs, suggestFlag, UsageError } from "../../demo/options.js";

describe("demo options", () => {
  it("defaults leave the ports to the demo (8080/8081, or free ones)", () => {
    expect(parseDemoArgs([])).toEqual({
      help: false,
      headless: false,
      calls: 8192,
      port: undefined,
      gatewayPort: undefined,
      host: "127.0.0.1",
    });
  });

  it("reads every flag, and tolerates npm's leading --", () => {
    expect(parseDemoArgs(["--", "--headless", "--calls", "64", "--port", "0", "--gateway-port=9001", "--host", "::1"])).toEqual({
      help: false,
      headless: true,
      calls: 64,
      port: 0,
      gatewayPort: 9001,
      host: "::1",
    });
    expect(parseDemoArgs(["-h"]).help).toBe(true);
  });

  it("an unknown flag is a UsageError with the closest flag", () => {
    expect(() => parseDemoArgs(["--prot", "9000"])).toThrow(
      new UsageError("unknown option --prot; did you mean --port? (npm run demo -- --help lists the options)"),
    );
    expect(() => parseDemoArgs(["--gateway-prt", "1"])).toThrow(/did you mean --gateway-port\?/);
    expect(() => parseDemoArgs(["--headles"])).toThrow(/did you mean --headless\?/);
    expect(() => parseDemoArgs(["--zzzzzzzz"])).toThrow(/^unknown option --zzzzzzzz \(npm run demo -- --help lists the options\)$/);
  });

  it("bad values say what goes there", () => {
    expect(() => parseDemoArgs(["--port"])).toThrow(/--port needs a value: --port PORT/);
    expect(() => parseDemoArgs(["--port", "http"])).toThrow(/--port must be a port from 0 to 65535, got "http"/);
    expect(() => parseDemoArgs(["--port", "70000"])).toThrow(UsageError);
    expect(() => parseDemoArgs(["--calls", "0"])).toThrow(/--calls must be a positive integer/);
    expect(() => parseDemoArgs(["stray"])).toThrow(UsageError);
  });

  it("--help lists every flag with its placeholder", () => {
    const help = demoHelp();
    for (const f of DEMO_FLAGS) expect(help).toContain(`--${f.name}${f.placeholder ? ` ${f.placeholder}` : ""}`);
    expect(help).toMatch(/^usage: npm run demo -- \[options\]/);
  });

  it("suggests only when the typo is close", () => {
    expect(suggestFlag("calss")).toBe("calls");
    expect(suggestFlag("gateway")).toBe("gateway-port");
    expect(suggestFlag("verbose")).toBeUndefined();
  });
});
