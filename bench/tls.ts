/**
 * A throw-away self-signed certificate for 127.0.0.1 made at run time with `openssl`, so
 * the benchmark can offer the browser HTTP/2 (browsers speak HTTP/2 only over TLS).
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** PEM key and certificate. */
export interface SelfSignedCert {
  key: string;
  cert: string;
}

/** Makes a P-256 self-signed certificate valid one day for 127.0.0.1 and localhost. */
export async function makeSelfSignedCert(): Promise<SelfSignedCert> {
  const dir = await mkdtemp(join(tmpdir(), "swtunnel-cert-"));
  try {
    const keyFile = join(dir, "key.pem");
    const certFile = join(dir, "cert.pem");
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ]).catch((error: Error) => {
      throw new Error(`openssl could not make a self-signed certificate (is openssl installed?): ${error.message}`);
    });
    return { key: await readFile(keyFile, "utf8"), cert: await readFile(certFile, "utf8") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
