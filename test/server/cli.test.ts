/** The CLI: parsing in-process, and the real process built with esbuild and spawned. */
import { execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { bundleForNode } from "../../tools/bundle-for-node.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { envName, parseCli, usage } from "../../server/cli-args.js";
import { main } from "../../server/cli-run.js";
import { closest } from "../../server/did-you-mean.js";
import { DEFAULT_OPTIONS, type Gateway, type GatewayOptions } from "../../server/index.js";
import { OPTION_SPECS, type OptionSpec } from "../../server/options.js";
import { startH2Backend, type H2Backend } from "./helpers.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
let bundle: string;
let backend: H2Backend;

function capture(isTTY = false) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (l: string) => out.push(l), stderr: (l: string) => err.push(l), isTTY } };
}

/** Runs `argv` in-process and expects a usage error (exit 2); returns what went to stderr. */
async function usageError(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const c = capture();
  expect(await main(argv, env, c.io), argv.join(" ")).toBe(2);
  const text = c.err.join("\n");
  expect(text).toContain("see swtunnel --help");
  return text;
}

/** Starts a gateway through main() with `argv` and returns it with what it printed. */
async function start(argv: readonly string[], isTTY: boolean) {
  const c = capture(isTTY);
  const gw = (await main(["gateway", "--listen", "127.0.0.1:0", "--upstream", backend.url, ...argv], {}, c.io)) as Gateway;
  expect(typeof gw, c.err.join("\n")).toBe("object");
  return { gw, out: c.out };
}

beforeAll(async () => {
  backend = await startH2Backend();
  bundle = await bundleForNode("server/cli.ts", "cli");
});
afterAll(async () => {
  await backend.close();
});

describe("CLI parsing", () => {
  it("maps every flag to an option, with env fallbacks (SWTUNNEL_<FLAG>, comma lists)", () => {
    const { options } = parseCli(
      [
        "gateway",
        "--listen",
        "127.0.0.1:0",
        "--allow-origin",
        "https://a.example",
        "--allow-origin",
        "https://b.example",
        "--max-streams-per-socket",
        "7",
        "--no-allow-no-origin",
      ],
      {
        SWTUNNEL_UPSTREAM: "http://127.0.0.1:1",
        SWTUNNEL_ALLOW_SERVICE: "a.B,c.D",
        SWTUNNEL_PING_INTERVAL_MS: "1000",
        SWTUNNEL_MAX_STREAMS_PER_SOCKET: "9",
      },
    );
    expect(options).toMatchObject({
      host: "127.0.0.1",
      port: 0,
      upstream: "http://127.0.0.1:1",
      allowOrigins: ["https://a.example", "https://b.example"],
      allowServices: ["a.B", "c.D"],
      maxStreamsPerSocket: 7,
      pingIntervalMs: 1000,
      allowNoOrigin: false,
    });
    expect(envName("max-sockets-per-ip")).toBe("SWTUNNEL_MAX_SOCKETS_PER_IP");
  });

  it("parses the edge flags: proxies, client address header, origins, admin listener, header count, socket age", () => {
    const { options } = parseCli(
      [
        "gateway",
        "--upstream",
        "http://127.0.0.1:1",
        "--trust-proxy",
        "10.0.0.0/8,::1",
        "--client-address-header",
        "CF-Connecting-IP",
        "--public-origin",
        "https://app.example.com",
        "--admin-listen",
        "127.0.0.1:9090",
        "--max-headers",
        "50",
        "--max-socket-age",
        "30m",
        "--allow-origin",
        "*",
      ],
      {},
    );
    expect(options).toMatchObject({
      trustProxy: ["10.0.0.0/8", "::1"],
      clientAddressHeader: "CF-Connecting-IP",
      publicOrigin: "https://app.example.com",
      adminListen: "127.0.0.1:9090",
      maxHeaders: 50,
      maxSocketAgeMs: 30 * 60_000,
      allowOrigins: ["*"],
    });
    expect(parseCli(["gateway"], { SWTUNNEL_UPSTREAM: "http://x:1", SWTUNNEL_MAX_SOCKET_AGE: "1.5h" }).options?.maxSocketAgeMs).toBe(
      5_400_000,
    );
    expect(() => parseCli(["gateway", "--upstream", "http://x:1", "--max-socket-age", "30"])).toThrow(
      "--max-socket-age must be a duration such as 500ms, 90s, 30m or 12h",
    );
  });

  it("--help shows every flag of the option table with its placeholder, env var and default from DEFAULT_OPTIONS", () => {
    const help = usage();
    const specs = OPTION_SPECS as readonly OptionSpec[];
    for (const spec of specs) {
      if (spec.flag === undefined) continue;
      const at = help.indexOf(`  --${spec.flag}${spec.kind === "bool" ? "" : ` ${spec.value}`}`);
      expect(at, `--${spec.flag} in --help`).toBeGreaterThanOrEqual(0);
      const entry = help.slice(at, help.indexOf("\n  --", at + 1));
      expect(entry).toContain(spec.doc);
      expect(entry).toContain(`env ${envName(spec.flag)}`);
      const value = (DEFAULT_OPTIONS as Record<string, unknown>)[spec.key];
      if (spec.kind === "listen") expect(entry).toContain(`default: ${DEFAULT_OPTIONS.host}:${DEFAULT_OPTIONS.port};`);
      else if (spec.defaultText !== undefined) expect(entry).toContain(`default: ${spec.defaultText};`);
      else if (value !== undefined) expect(entry).toContain(`default: ${String(value)};`);
    }
    expect(help).toContain("--listen HOST:PORT");
    expect(help).toContain("default: 4194304; env SWTUNNEL_MAX_MESSAGE_BYTES");
    // Every option with a default is in the table (DEFAULT_OPTIONS is built from it).
    expect(Object.keys(DEFAULT_OPTIONS).sort()).toEqual(
      specs
        .filter((s) => "default" in s)
        .map((s) => s.key)
        .sort(),
    );
  });

  it("every int flag and its env var set the option the table names", () => {
    for (const spec of OPTION_SPECS as readonly OptionSpec[]) {
      if (spec.flag === undefined || spec.kind !== "int") continue;
      const value = String(spec.min ?? 0);
      const byFlag = parseCli(["gateway", "--upstream", "http://127.0.0.1:1", `--${spec.flag}`, value], {}).options!;
      expect(byFlag[spec.key as keyof GatewayOptions], `--${spec.flag}`).toBe(Number(value));
      const byEnv = parseCli(["gateway"], { SWTUNNEL_UPSTREAM: "http://127.0.0.1:1", [envName(spec.flag)]: value }).options!;
      expect(byEnv[spec.key as keyof GatewayOptions], envName(spec.flag)).toBe(Number(value));
    }
  });

  it("--help and --version exit 0; bad flags and values exit 2 with a pointer to --help", async () => {
    const help = capture();
    expect(await main(["--help"], {}, help.io)).toBe(0);
    expect(help.out.join("\n")).toContain("--max-message-bytes");
    const v = capture();
    expect(await main(["--version"], {}, v.io)).toBe(0);
    expect(v.out[0]).toMatch(/^\d+\.\d+\.\d+/);
    for (const argv of [
      ["gateway", "--bogus"],
      ["gateway"],
      ["gateway", "--upstream", "http://x:1", "--max-sockets", "many"],
      ["gateway", "--upstream", "ftp://x"],
      ["serve"],
    ]) {
      const c = capture();
      expect(await main(argv, {}, c.io)).toBe(2);
      expect(c.err.join("\n")).toContain("see swtunnel --help");
    }
  });

  it("starts a gateway in-process and prints its URL", async () => {
    const { gw, out } = await start([], false);
    try {
      expect(out[0]).toContain(gw.url);
      expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    } finally {
      await gw.close(100);
    }
  });
});

describe("CLI usability", () => {
  it("suggests the flag meant by a mistyped one (did you mean --listen?)", async () => {
    expect(await usageError(["gateway", "--listn", "127.0.0.1:0"])).toContain("unknown flag --listn; did you mean --listen?");
    expect(await usageError(["gateway", "--upstream-protocl", "grpc"])).toContain("did you mean --upstream-protocol?");
    expect(await usageError(["gateway", "--max-socket-per-ip", "3"])).toContain("did you mean --max-sockets-per-ip?");
    expect(await usageError(["gateway", "--no-allow-no-orign"])).toContain("did you mean --no-allow-no-origin?");
    expect(await usageError(["gateway", "--max-streams-per-sockt", "3"])).toContain("did you mean --max-streams-per-socket?");
    // Nothing close: no guess, just the flag.
    const far = await usageError(["gateway", "--zzzzzz"]);
    expect(far).toContain("unknown flag --zzzzzz");
    expect(far).not.toContain("did you mean");
  });

  it("suggests the command and the value meant by a mistyped one", async () => {
    expect(await usageError(["gatewy", "--upstream", "http://127.0.0.1:1"])).toContain('unknown command "gatewy"; did you mean gateway?');
    expect(await usageError(["serve"])).toContain("the command is: gateway");
    expect(await usageError(["gateway", "--upstream", "http://127.0.0.1:1", "--log-level", "warning"])).toContain(
      '--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "warning"; did you mean warn?',
    );
    expect(await usageError(["gateway", "--upstream", "http://127.0.0.1:1", "--upstream-protocol", "gprc"])).toContain(
      "did you mean grpc?",
    );
    expect(await usageError(["gateway"], { SWTUNNEL_UPSTREAM: "http://127.0.0.1:1", SWTUNNEL_LOG_FORMAT: "jsonl" })).toContain(
      'SWTUNNEL_LOG_FORMAT must be one of auto, json, pretty, got "jsonl"; did you mean json?',
    );
    expect(closest("listen", ["listen"])).toBe("listen");
    expect(closest("xyz", ["listen", "path"])).toBeUndefined();
  });

  it("every usage error exits 2 and says which flag and what goes there", async () => {
    expect(await usageError(["gateway", "--upstream"])).toContain("--upstream needs a value (--upstream URL)");
    expect(await usageError(["gateway", "--upstream", "http://127.0.0.1:1", "--listen", "8080"])).toContain("--listen must be HOST:PORT");
    expect(await usageError(["gateway", "--upstream", "http://127.0.0.1:1", "extra"])).toContain('unexpected argument "extra"');
    expect(await usageError(["gateway", "--upstream", "http://127.0.0.1:1", "--max-frame-payload", "1"])).toContain(
      "maxFramePayload must be",
    );
    expect(await usageError(["gateway", "--upstream", "http://127.0.0.1:1", "--descriptors", "/nonexistent/x.binpb"])).toContain(
      "cannot read --descriptors file",
    );
  });

  it("prints one startup line: JSON when stdout is not a terminal, pretty when it is, or as --log-format says", async () => {
    for (const [argv, isTTY, json] of [
      [[], false, true],
      [[], true, false],
      [["--log-format", "json"], true, true],
      [["--log-format", "pretty"], false, false],
    ] as const) {
      const { gw, out } = await start(argv, isTTY);
      try {
        expect(out, `${argv.join(" ")} tty=${isTTY}`).toHaveLength(1);
        if (json) {
          const line = JSON.parse(out[0]!) as Record<string, unknown>;
          expect(line).toMatchObject({ level: 30, name: "swtunnel", url: gw.url, upstream: backend.url });
          expect(line.msg).toBe(`gateway listening on ${gw.url} (upstream ${backend.url})`);
        } else {
          expect(() => JSON.parse(out[0]!)).toThrow();
          // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the terminal's colour codes
          const plain = out[0]!.replace(/\u001b\[[0-9;]*m/g, "");
          expect(plain).toMatch(/INFO \(swtunnel\): gateway listening on /);
          expect(plain).toContain(gw.url);
          expect(out[0] !== plain).toBe(isTTY); // colours on a terminal only
        }
      } finally {
        await gw.close(100);
      }
    }
  });

  it("--log-level sets the pino level: warn hides the startup line, debug shows debug lines", async () => {
    const quiet = await start(["--log-level", "warn"], false);
    try {
      expect(quiet.out).toEqual([]);
      expect(quiet.gw.options.logger?.level).toBe("warn");
    } finally {
      await quiet.gw.close(100);
    }
    const loud = await start(["--log-level", "debug", "--log-format", "json"], false);
    try {
      expect(loud.gw.options.logger?.level).toBe("debug");
      loud.gw.options.logger!.debug("probe");
      expect(loud.out.map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain("probe");
    } finally {
      await loud.gw.close(100);
    }
  });
});

describe("CLI process", () => {
  it("serves /healthz and /metrics on --admin-listen, drains on SIGTERM and exits 0", async () => {
    const child = spawn(
      process.execPath,
      [bundle, "gateway", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--log-format", "json"],
      {
        env: { ...process.env, SWTUNNEL_UPSTREAM: backend.url },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    let stdout = "";
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
        const m = /listening on (http:\/\/[^\s"]+) \(admin (http:\/\/[^,\s"]+)/.exec(stdout);
        if (m) resolve(m[2]!);
      });
      child.on("exit", (code) => reject(new Error(`exited ${code} before listening: ${stdout}`)));
    });
    expect(await (await fetch(`${url}/healthz`)).text()).toBe("ok\n");
    expect(await (await fetch(`${url}/metrics`)).text()).toContain("swtunnel_sockets");
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it("exits 2 on a bad flag", async () => {
    const child = spawn(process.execPath, [bundle, "gateway", "--nope"], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(code).toBe(2);
    expect(stderr).toContain("see swtunnel --help");
  });

  it("refuses an older Node than package.json's engines with a clear message and exit 1 (Node 20)", async () => {
    // Node 20 from the npm registry (npx caches it), whatever the machine's own Node is.
    const { stdout: path } = await promisify(execFile)("npx", ["-y", "-p", "node@20", "--", "node", "-p", "process.execPath"]);
    const oldNode = path.trim();
    const { stdout: v } = await promisify(execFile)(oldNode, ["--version"]);
    expect(v.trim()).toMatch(/^v20\./);
    const { engines } = JSON.parse(readFileSync(`${root}package.json`, "utf8")) as { engines: { node: string } };
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(oldNode, [bundle, "gateway", "--upstream", backend.url], (err, _out, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr }),
      );
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`swtunnel needs Node ${engines.node} (package.json engines)`);
    expect(result.stderr).toContain(`this is Node ${v.trim().slice(1)}`);
  });
});
