/**
 * Runs one backend until SIGTERM/SIGINT:
 *   node dist/demo/backend/cli.js --kind grpc|connect|connect-http1 [--port N] [--host H]
 *        [--tls-key key.pem --tls-cert cert.pem]   (connect only: HTTP/2 over TLS)
 * Prints "listening <url>" on stdout once it accepts calls (Playwright's global setup and
 * the demo wait for that line).
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { Backend } from "./backend.js";
import { startConnectBackend, startConnectBackendHttp1 } from "./connect-server.js";
import { startGrpcBackend } from "./grpc-server.js";

/** The backend kinds the CLI can start. */
export const backendKinds = ["grpc", "connect", "connect-http1"] as const;
export type BackendKind = (typeof backendKinds)[number];

/** Parsed command line of the backend CLI. */
export interface CliOptions {
  kind: BackendKind;
  host?: string;
  port: number;
  tls?: { key: Buffer; cert: Buffer };
}

/** Parses the arguments (without node and script path); throws with a usage hint on bad input. */
export function parseCliArgs(args: string[]): CliOptions {
  const usage = "usage: cli.js --kind grpc|connect|connect-http1 [--port N] [--host H] [--tls-key F --tls-cert F]";
  const { values } = parseArgs({
    args,
    options: {
      kind: { type: "string" },
      port: { type: "string", default: "0" },
      host: { type: "string" },
      "tls-key": { type: "string" },
      "tls-cert": { type: "string" },
    },
    strict: true,
  });
  const kind = values.kind as BackendKind | undefined;
  if (kind === undefined || !backendKinds.includes(kind)) {
    throw new Error(`--kind must be one of ${backendKinds.join(", ")}, got ${values.kind ?? "nothing"}; ${usage}`);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be an integer 0..65535, got ${values.port}; ${usage}`);
  }
  const keyFile = values["tls-key"];
  const certFile = values["tls-cert"];
  if ((keyFile === undefined) !== (certFile === undefined)) throw new Error(`give both --tls-key and --tls-cert; ${usage}`);
  if (keyFile !== undefined && kind !== "connect") throw new Error(`TLS is only supported with --kind connect; ${usage}`);
  const tls = keyFile && certFile ? { key: readFileSync(keyFile), cert: readFileSync(certFile) } : undefined;
  return { kind, port, ...(values.host ? { host: values.host } : {}), ...(tls ? { tls } : {}) };
}

/** Starts the backend the options describe. */
export function startBackend(options: CliOptions): Promise<Backend> {
  const listen = { port: options.port, ...(options.host ? { host: options.host } : {}) };
  switch (options.kind) {
    case "grpc":
      return startGrpcBackend(listen);
    case "connect":
      return startConnectBackend({ ...listen, ...(options.tls ? { tls: options.tls } : {}) });
    case "connect-http1":
      return startConnectBackendHttp1(listen);
  }
}

/** CLI entry: start, print "listening <url>", close on SIGTERM/SIGINT. */
export async function main(args: string[]): Promise<void> {
  const backend = await startBackend(parseCliArgs(args));
  process.stdout.write(`listening ${backend.url}\n`);
  const stop = (): void => {
    backend.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`backend: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
