/**
 * wasmws side by side: runs the seed's own demo (its native Go gRPC server and its static
 * page, grpc-go compiled to wasm making 8192 sequential hello-world calls) in the
 * benchmark's browser, so our paths can be reported as ratios to it from the same run.
 * A build comes from `/work/shared/wasmws/build.sh PORT`; its port is baked in.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createConnection } from "node:net";
import { join, resolve } from "node:path";
import type { BenchPage } from "./browser-driver.js";
import { isWasmwsFailure, parseWasmwsLine, portFromBuild, type WasmwsResult } from "./wasmws-line.js";

/** The command that makes a build, printed when `--wasmws` is not given. */
export const wasmwsBuildHint =
  "no --wasmws DIR: wasmws is not measured in this run. Build it once with\n" +
  "  WASMWS_WORK=/tmp/wasmws-work /work/shared/wasmws/build.sh 40123\n" +
  "then pass --wasmws /tmp/wasmws-work/demo (the port, 40123 here, is read from the build; --wasmws-port overrides)";

/** A wasmws demo build on disk. */
export interface WasmwsBuild {
  /** The demo directory (server, static/). */
  dir: string;
  /** The loopback port its client and server were built for. */
  port: number;
}

/**
 * Finds the demo in `dir` (the build's demo directory, or the WASMWS_WORK directory above
 * it) and its port: `port` if given, else the one baked into static/client.wasm.
 */
export async function locateWasmwsBuild(dir: string, port?: number): Promise<WasmwsBuild> {
  let demo = resolve(dir);
  if (!existsSync(join(demo, "server")) && existsSync(join(demo, "demo", "server"))) demo = join(demo, "demo");
  for (const file of ["server", "static/index.html", "static/client.wasm"]) {
    if (!existsSync(join(demo, file)))
      throw new Error(`--wasmws ${dir}: ${join(demo, file)} is missing; is it a build of /work/shared/wasmws/build.sh?`);
  }
  if (port !== undefined) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--wasmws-port must be a port number, got ${port}`);
    return { dir: demo, port };
  }
  const found = portFromBuild((await readFile(join(demo, "static/client.wasm"))).toString("latin1"));
  if (found === undefined) throw new Error(`--wasmws ${dir}: no ws://127.0.0.1:PORT/grpc-proxy in static/client.wasm; pass --wasmws-port`);
  return { dir: demo, port: found };
}

/** The demo's server, running. */
export interface WasmwsServer {
  readonly origin: string;
  stop(): Promise<void>;
}

/** Starts the demo server (it serves static/ and /grpc-proxy on 127.0.0.1:port) and waits until it accepts connections. */
export async function startWasmwsServer(build: WasmwsBuild, timeoutMs = 15_000): Promise<WasmwsServer> {
  if (await accepts(build.port)) {
    throw new Error(`wasmws: port ${build.port} (baked into the build) is already in use; stop what holds it or rebuild for another port`);
  }
  const child = spawn("./server", [], { cwd: build.dir, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const stop = () => stopChild(child);
  const deadline = Date.now() + timeoutMs;
  while (!(await accepts(build.port))) {
    if (child.exitCode !== null) throw new Error(`wasmws server exited (code ${child.exitCode}): ${stderr}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wasmws server did not listen on 127.0.0.1:${build.port} within ${timeoutMs} ms: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { origin: `http://127.0.0.1:${build.port}`, stop };
}

/** Loads the demo page in `page` and resolves with its SUCCESS line's figures. */
export async function runWasmwsDemo(page: BenchPage, origin: string, timeoutMs = 180_000): Promise<WasmwsResult> {
  let off: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<WasmwsResult>((resolvePromise, reject) => {
    timer = setTimeout(() => reject(new Error(`wasmws demo logged no SUCCESS line within ${timeoutMs} ms`)), timeoutMs);
    off = page.onConsole((_type, text) => {
      const result = parseWasmwsLine(text);
      if (result) resolvePromise(result);
      else if (isWasmwsFailure(text)) reject(new Error(`wasmws demo failed: ${text}`));
    });
  });
  done.catch(() => undefined); // a failure during the load is reported by the await below
  try {
    await page.goto(`${origin}/`);
    return await done;
  } finally {
    clearTimeout(timer);
    off?.();
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.once("error", () => resolvePromise(false));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
}
