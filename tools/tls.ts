/**
 * Throw-away self-signed certificates made at run time with `openssl` (P-256, one day,
 * for 127.0.0.1 and localhost): the benchmark's HTTP/2 backend (browsers speak HTTP/2
 * only over TLS) and the tests' TLS backends, gateways and proxies.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** PEM key and certificate. */
export interface SelfSignedCert {
  key: string;
  cert: string;
}

/** Writes `cert.pem` and `key.pem` into `dir`; returns their paths. */
export function writeSelfSignedCert(dir: string): SelfSignedCert {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  try {
    execFileSync(
      "openssl",
      [
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
        "/CN=localhost",
        "-addext",
        "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-keyout",
        key,
        "-out",
        cert,
      ],
      { stdio: "ignore" },
    );
  } catch (error) {
    throw new Error(`openssl could not make a self-signed certificate (is openssl installed?): ${(error as Error).message}`);
  }
  return { cert, key };
}

/** A certificate and key as PEM text; nothing is left on disk. */
export async function makeSelfSignedCert(): Promise<SelfSignedCert> {
  const dir = await mkdtemp(join(tmpdir(), "swtunnel-cert-"));
  try {
    const files = writeSelfSignedCert(dir);
    return { key: await readFile(files.key, "utf8"), cert: await readFile(files.cert, "utf8") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
