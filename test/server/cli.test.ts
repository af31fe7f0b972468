/** The CLI: parsing in-process, and the real process built with esbuild and spawned. */
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { envName, main, parseCli, usage } from "../../server/cli.js";
import { DEFAULT_OPTIONS, type Gateway, type GatewayOptions } from "../../server/index.js";
import { OPTION_SPECS, type OptionSpec } from "../../server/options.js";
import { startH2Backend, type H2Backend } from "./helpers.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const bundle = `${root}node_modules/.cache/swtunnel-test/cli.mjs`;
let backend: H2Backend;

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (l: string) => out.push(l), stderr: (l: string) => err.push(l) } };
}

beforeAll(async () => {
  backend = await startH2Backend();
  mkdirSync(`${root}node_modules/.cache/swtunnel-test`, { recursive: true });
  // Dependencies stay external: the bundle lives under node_modules/ and resolves them there.
  await build({
    entryPoints: [`${root}server/cli.ts`],
    bundle: true,
    platform: "node",
    format: "esm",
    packages: "external",
    outfile: bundle,
    logLevel: "silent",
  });
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
    const c = capture();
    const gw = (await main(
      ["gateway", "--listen", "127.0.0.1:0", "--upstream", backend.url, "--log-level", "silent"],
      {},
      c.io,
    )) as Gateway;
    try {
      expect(c.out[0]).toContain(gw.url);
      expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    } finally {
      await gw.close(100);
    }
  });
});

describe("CLI process", () => {
  it("serves /healthz and /metrics, drains on SIGTERM and exits 0", async () => {
    const child = spawn(process.execPath, [bundle, "gateway", "--listen", "127.0.0.1:0", "--log-level", "warn"], {
      env: { ...process.env, SWTUNNEL_UPSTREAM: backend.url },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    let stdout = "";
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(stdout);
        if (m) resolve(m[1]!);
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
});
