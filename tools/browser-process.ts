/**
 * What launching a browser as a child process takes, whatever its protocol (tools/chromium.ts
 * over CDP, tools/firefox.ts over WebDriver BiDi): wait for the endpoint it prints on
 * stderr, and stop it (politely, then SIGKILL) and remove its profile.
 */
import type { ChildProcess } from "node:child_process";
import { rm } from "node:fs/promises";

/** How a browser announces itself, for {@link waitForEndpoint} and its errors. */
export interface EndpointLine {
  /** The browser's name in messages, e.g. "Chromium". */
  browser: string;
  /** The protocol's name in messages, e.g. "DevTools". */
  protocol: string;
  /** Matches the stderr line; group 1 is the endpoint URL. */
  pattern: RegExp;
  /** What to say when the binary cannot be started (which package, which variable). */
  hint: string;
}

/** Resolves with the endpoint the browser prints on stderr; rejects if it exits, fails or stays silent. */
export function waitForEndpoint(child: ChildProcess, line: EndpointLine, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${line.browser} printed no ${line.protocol} endpoint within ${timeoutMs} ms; its stderr:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = line.pattern.exec(output);
      if (match) {
        cleanup();
        child.stderr?.resume(); // keep draining so the browser never blocks on a full pipe
        resolve(match[1]!);
      }
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`${line.browser} exited (code ${code}) before ${line.protocol} was ready; ${line.hint}. stderr:\n${output}`));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(new Error(`could not start ${line.browser}: ${error.message}; ${line.hint}`));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stderr?.off("data", onData);
      child.off("exit", onExit);
      child.off("error", onError);
    };
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
    child.once("error", onError);
  });
}

/**
 * Stops a browser: asks it to close over its protocol (at most 2 s), closes the
 * connection, kills it if it has not exited 3 s later, and removes its profile folder.
 */
export async function stopBrowser(
  child: ChildProcess,
  connection: { close(): void },
  askToClose: () => Promise<unknown>,
  profileDir: string,
): Promise<void> {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  await Promise.race([askToClose().catch(() => undefined), delay(2000)]);
  connection.close();
  const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
  await rm(profileDir, { recursive: true, force: true, maxRetries: 3 });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
