/**
 * BenchClient implementations: one over any Connect Transport (direct fetch, the tunnel
 * through fetch, the page-SDK transport) and one over a raw page WebSocket to an echo
 * server, the floor every other path is compared with.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createClient, type Transport } from "@connectrpc/connect";
import { DemoService, HelloRequestSchema } from "../../demo/gen/swtunnel/demo/v1/demo_pb.js";
import { TestService, type BidiRequest } from "../../demo/gen/swtunnel/test/v1/test_pb.js";
import type { BenchClient } from "./workloads.js";

/** A BenchClient calling DemoService.SayHello and TestService over `transport`. */
export function connectBenchClient(transport: Transport, options: { bidi: boolean }): BenchClient {
  const demo = createClient(DemoService, transport);
  const test = createClient(TestService, transport);
  const client: BenchClient = {
    async hello(name) {
      const reply = await demo.sayHello({ name });
      if (reply.message.length === 0) throw new Error("SayHello answered an empty message");
    },
    async big(payloadBytes, responseBytes) {
      const response = await test.unary({ payload: new Uint8Array(payloadBytes), responseSize: responseBytes });
      return response.payload.byteLength;
    },
    async stream(size, count) {
      let bytes = 0;
      for await (const message of test.serverStream({ count, size })) bytes += message.payload.byteLength;
      return bytes;
    },
  };
  if (options.bidi) {
    client.bidi = async () => {
      const requests = pushable<BidiRequest>();
      const responses = test.bidi(requests.iterable)[Symbol.asyncIterator]();
      return {
        async ping(text) {
          requests.push(create(TestServiceBidiRequest, { text }));
          const next = await responses.next();
          if (next.done || next.value.text !== text) throw new Error("bidi stream did not echo the ping");
        },
        async close() {
          requests.end();
          while (!(await responses.next()).done) {
            // drain to the end of the stream
          }
        },
      };
    };
  }
  return client;
}

const TestServiceBidiRequest = TestService.method.bidi.input;

/**
 * A BenchClient over one raw WebSocket to an echo server: each "call" sends the bytes a
 * hello call would carry (the encoded HelloRequest) and waits for them to come back.
 * Echoes return in order, so a FIFO of waiters matches them up.
 */
export async function wsEchoBenchClient(url: string): Promise<BenchClient> {
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error(`could not open the echo WebSocket ${url}`));
  });
  const waiters: ((data: ArrayBuffer) => void)[] = [];
  let head = 0;
  socket.onmessage = (event: MessageEvent<ArrayBuffer>) => {
    const waiter = waiters[head];
    waiters[head++] = undefined as never;
    if (head > 1024 && head * 2 > waiters.length) {
      waiters.splice(0, head);
      head = 0;
    }
    waiter?.(event.data);
  };
  const roundTrip = (bytes: Uint8Array): Promise<ArrayBuffer> =>
    new Promise((resolve) => {
      waiters.push(resolve);
      socket.send(bytes);
    });
  return {
    async hello(name) {
      const data = await roundTrip(toBinary(HelloRequestSchema, create(HelloRequestSchema, { name })));
      if (fromBinary(HelloRequestSchema, new Uint8Array(data)).name !== name) throw new Error("echo mismatch");
    },
    async big(payloadBytes) {
      const data = await roundTrip(new Uint8Array(payloadBytes));
      return data.byteLength;
    },
    async bidi() {
      return {
        async ping(text) {
          const data = await roundTrip(new TextEncoder().encode(text));
          if (data.byteLength !== text.length) throw new Error("echo mismatch");
        },
        async close() {},
      };
    },
  };
}

/**
 * A BenchClient doing one plain fetch POST per "call" with the bytes a hello call carries,
 * to an HTTP/1.1 echo: what any fetch costs in this browser, with no RPC library at all.
 */
export function fetchEchoBenchClient(url: string): BenchClient {
  const roundTrip = async (bytes: Uint8Array): Promise<ArrayBuffer> => {
    const response = await fetch(url, {
      method: "POST",
      body: bytes as Uint8Array<ArrayBuffer>,
      headers: { "content-type": "application/octet-stream" },
    });
    return response.arrayBuffer();
  };
  return {
    async hello(name) {
      const data = await roundTrip(toBinary(HelloRequestSchema, create(HelloRequestSchema, { name })));
      if (fromBinary(HelloRequestSchema, new Uint8Array(data)).name !== name) throw new Error("echo mismatch");
    },
    async big(payloadBytes) {
      return (await roundTrip(new Uint8Array(payloadBytes))).byteLength;
    },
  };
}

/** An async iterable fed by push(), ended by end(). */
function pushable<T>(): { push(value: T): void; end(): void; iterable: AsyncIterable<T> } {
  const queue: T[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  return {
    push(value) {
      queue.push(value);
      wake?.();
    },
    end() {
      ended = true;
      wake?.();
    },
    iterable: {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          if (queue.length > 0) {
            yield queue.shift() as T;
            continue;
          }
          if (ended) return;
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
      },
    },
  };
}
