/**
 * Gateway memory per idle tunnel socket: a fresh gateway child (run with --expose-gc), a
 * separate child holding the client sockets, and the gateway's RSS after a full GC before
 * and after the sockets opened.
 */
import type { Child } from "./child.js";

/** Memory per idle socket at one socket count. */
export interface IdleSocketRun {
  sockets: number;
  rssBytesPerSocket: number;
  heapBytesPerSocket: number;
}

interface Usage {
  rss: number;
  heapUsed: number;
}

/**
 * Opens sockets in steps up to each of `counts` (ascending) and reports, for each, the
 * gateway's RSS and heap growth since the baseline divided by the socket count.
 */
export async function measureIdleSockets(
  gateway: Child,
  clients: Child,
  tunnelUrl: string,
  counts: readonly number[],
): Promise<IdleSocketRun[]> {
  // Warm the code paths (upgrade, SETTINGS) so the baseline holds the compiled code.
  await clients.request("open", { url: tunnelUrl, total: 50 });
  await clients.request("close");
  await settle();
  const base = await gateway.request<Usage>("usage", { gc: true });
  const runs: IdleSocketRun[] = [];
  for (const count of counts) {
    await clients.request("open", { url: tunnelUrl, total: count }, 300_000);
    await settle();
    const now = await gateway.request<Usage>("usage", { gc: true });
    runs.push({
      sockets: count,
      rssBytesPerSocket: (now.rss - base.rss) / count,
      heapBytesPerSocket: (now.heapUsed - base.heapUsed) / count,
    });
  }
  await clients.request("close", undefined, 300_000);
  return runs;
}

function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 500));
}
