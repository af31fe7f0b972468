/**
 * Waiting for a server we started as a child process (nginx, HAProxy, Caddy) to accept
 * connections: the only readiness signal those binaries give.
 */
import net from "node:net";

/** How {@link waitForListening} ended. */
export type ListenWait = "listening" | "stopped" | "timeout";

/**
 * Polls 127.0.0.1:`port` every 50 ms until it accepts a TCP connection, `stopped()` turns
 * true (the process exited) or `timeoutMs` passed.
 */
export async function waitForListening(port: number, options: { stopped: () => boolean; timeoutMs: number }): Promise<ListenWait> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (options.stopped()) return "stopped";
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => (s.destroy(), resolve(true)));
      s.on("error", () => resolve(false));
    });
    if (ok) return "listening";
    if (Date.now() > deadline) return "timeout";
    await new Promise((r) => setTimeout(r, 50));
  }
}
