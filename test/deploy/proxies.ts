/**
 * Runs the proxy recipes of docs/DEPLOY.md (deploy/proxies/*) as they are: the file is
 * read, its {{...}} placeholders (ports, paths, idle timeout) filled in, and the Debian
 * binary started on it as a child process in a temp dir. Loopback only, free ports.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitForListening } from "../../tools/listening.js";
import { fromRoot } from "../../tools/paths.js";
import { writeSelfSignedCert } from "../../tools/tls.js";

export type ProxyKind = "nginx" | "haproxy" | "caddy";

export const proxyKinds: Array<[ProxyKind]> = [["nginx"], ["haproxy"], ["caddy"]];

/** The recipe file of each proxy, relative to the repository root. */
export const recipeFile: Record<ProxyKind, string> = {
  nginx: "deploy/proxies/nginx.conf",
  haproxy: "deploy/proxies/haproxy.cfg",
  caddy: "deploy/proxies/Caddyfile",
};

export interface ProxyOptions {
  /** `host:port` of the two gateways. */
  gateways: [string, string];
  /** Idle timeout in seconds, written in each proxy's own unit syntax. */
  idleTimeoutSeconds: number;
  /** PEM files for the TLS listener (default: a certificate made for the run). */
  tls?: { cert: string; key: string };
}

export interface RunningProxy {
  kind: ProxyKind;
  port: number;
  /** The TLS listener's port. */
  tlsPort: number;
  url: string;
  /** What the proxy printed (for failure messages). */
  output(): string;
  close(): Promise<void>;
}

/** Fills `{{NAME}}`; an unknown placeholder left in the file is an error, not a silent gap. */
export function fillTemplate(text: string, values: Record<string, string>): string {
  const out = text.replace(/\{\{([A-Z_]+)\}\}/g, (m, name: string) => values[name] ?? m);
  const left = /\{\{[A-Z_]+\}\}/.exec(out);
  if (left) throw new Error(`placeholder ${left[0]} has no value`);
  return out;
}

/** A port that was free a moment ago (the proxies need numbers in their config). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function command(kind: ProxyKind, dir: string, config: string): { bin: string; args: string[]; env?: NodeJS.ProcessEnv } {
  switch (kind) {
    case "nginx":
      return { bin: "/usr/sbin/nginx", args: ["-p", dir, "-c", config, "-g", "daemon off;"] };
    case "haproxy":
      return { bin: "/usr/sbin/haproxy", args: ["-db", "-f", config] };
    case "caddy":
      // Caddy keeps state under XDG dirs; keep it in the temp dir.
      return {
        bin: "/usr/bin/caddy",
        args: ["run", "--adapter", "caddyfile", "--config", config],
        env: { ...process.env, XDG_CONFIG_HOME: dir, XDG_DATA_HOME: dir, HOME: dir },
      };
  }
}

/** Starts `kind` on its recipe; resolves once its port accepts connections. */
export async function startProxy(kind: ProxyKind, options: ProxyOptions): Promise<RunningProxy> {
  const dir = await mkdtemp(join(tmpdir(), `swtunnel-${kind}-`));
  const port = await freePort();
  const tlsPort = await freePort();
  // Every recipe has a TLS listener; without a certificate from the caller, make one.
  const tls = options.tls ?? writeSelfSignedCert(dir);
  const pem = join(dir, "cert-and-key.pem"); // HAProxy's crt: the chain and the key in one file
  await writeFile(pem, `${await readFile(tls.cert, "utf8")}${await readFile(tls.key, "utf8")}`);
  const values: Record<string, string> = {
    DIR: dir,
    LISTEN: `127.0.0.1:${port}`,
    TLS_LISTEN: `127.0.0.1:${tlsPort}`,
    TLS_CERT: tls.cert,
    TLS_KEY: tls.key,
    TLS_PEM: pem,
    GATEWAY_A: options.gateways[0],
    GATEWAY_B: options.gateways[1],
    IDLE_TIMEOUT: `${options.idleTimeoutSeconds}s`,
  };
  const template = await readFile(fromRoot(recipeFile[kind]), "utf8");
  const config = join(dir, recipeFile[kind].split("/").pop()!);
  await writeFile(config, fillTemplate(template, values));
  const { bin, args, env } = command(kind, dir, config);
  const child: ChildProcess = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"], env: env ?? process.env });
  let output = "";
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const ready = await waitForListening(port, { stopped: () => child.exitCode !== null || child.signalCode !== null, timeoutMs: 15_000 });
  if (ready === "stopped") {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${kind} exited (${child.exitCode ?? child.signalCode}) on ${recipeFile[kind]}:\n${output}`);
  }
  if (ready === "timeout") {
    child.kill("SIGKILL");
    await exited;
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${kind} did not listen on ${port} within 15 s:\n${output}`);
  }
  return {
    kind,
    port,
    tlsPort,
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
