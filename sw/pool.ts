/**
 * One tunnel client per gateway URL, created on first use and shared by every page of
 * the scope (all fetch events and MessagePorts of this worker go through it).
 */
import { mapClientStatus, type StatusHub } from "./status.js";
import type { TunnelClientFactory, TunnelClientLike } from "./types.js";

export class TunnelPool {
  private readonly clients = new Map<string, TunnelClientLike>();

  constructor(
    private readonly factory: TunnelClientFactory,
    private readonly hub: StatusHub,
  ) {}

  /** The client for `gateway`, created on first use. */
  get(gateway: string): TunnelClientLike {
    let client = this.clients.get(gateway);
    if (!client) {
      client = this.factory({ url: gateway, onStatus: (status) => this.hub.setStatus(gateway, mapClientStatus(status)) });
      this.clients.set(gateway, client);
    }
    return client;
  }

  /** Closes every client (tests, or a worker being replaced). */
  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}
