/**
 * The behaviour of TestService and DemoService, written once against a small call context
 * so the grpc-js and the Connect servers share it. Streams are async iterables; errors are
 * ConnectError (its numeric codes are the gRPC codes), which each server maps to its wire.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  BidiResponseSchema,
  ClientStreamResponseSchema,
  ErrorDetailSchema,
  InspectResponseSchema,
  ServerStreamResponseSchema,
  UnaryResponseSchema,
  type BidiRequest,
  type BidiResponse,
  type ClientStreamRequest,
  type ClientStreamResponse,
  type FailRequest,
  type InspectRequest,
  type InspectResponse,
  type ServerStreamRequest,
  type ServerStreamResponse,
  type UnaryRequest,
  type UnaryResponse,
} from "../gen/swtunnel/test/v1/test_pb.js";
import {
  ChatMessageSchema,
  HelloReplySchema,
  TickReplySchema,
  type ChatMessage,
  type HelloReply,
  type HelloRequest,
  type TickReply,
  type TickRequest,
} from "../gen/swtunnel/demo/v1/demo_pb.js";
import type { Recorder } from "./recorder.js";

/** What a handler needs to know about its call, independent of the server library. */
export interface CallContext {
  /** Aborts when the client cancels, the stream is reset or the deadline passes. */
  signal: AbortSignal;
  /** Remaining deadline in milliseconds when the call arrived, undefined if none. */
  timeoutMs: number | undefined;
  recorder: Recorder;
}

/** `n` bytes where byte i is i & 0xff, so receivers can verify payloads. */
export function patternBytes(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = i & 0xff;
  return bytes;
}

/** Waits `ms`, rejecting with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function abortError(signal: AbortSignal): ConnectError {
  return ConnectError.from(signal.reason ?? new Error("call cancelled"), Code.Canceled);
}

/**
 * Records the call under `id` (seen + timeout) and records a cancel if the signal aborts
 * before the returned `done` is called. Handlers call `done` when they finish, because
 * some servers abort the signal after a call completed normally.
 */
export function track(ctx: CallContext, id: string): () => void {
  if (id === "") return () => {};
  ctx.recorder.seen(id, ctx.timeoutMs);
  if (ctx.signal.aborted) {
    ctx.recorder.cancelled(id);
    return () => {};
  }
  const onAbort = (): void => ctx.recorder.cancelled(id);
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  return () => ctx.signal.removeEventListener("abort", onAbort);
}

function timeoutField(ctx: CallContext): bigint {
  return ctx.timeoutMs === undefined ? -1n : BigInt(Math.max(0, Math.round(ctx.timeoutMs)));
}

/** TestService.Unary: echo text, answer response_size pattern bytes after delay_ms. */
export async function unary(req: UnaryRequest, ctx: CallContext): Promise<UnaryResponse> {
  const done = track(ctx, req.id);
  try {
    if (req.delayMs > 0) await sleep(req.delayMs, ctx.signal);
    return create(UnaryResponseSchema, {
      text: req.text,
      payload: patternBytes(req.responseSize),
      timeoutMs: timeoutField(ctx),
      requestBytes: req.payload.byteLength,
    });
  } finally {
    done();
  }
}

/**
 * TestService.ServerStream: `count` messages of `size` bytes, `interval_ms` apart, then
 * fail_code if set. The server pulls one message at a time, so a slow reader stops it.
 */
export async function* serverStream(req: ServerStreamRequest, ctx: CallContext): AsyncGenerator<ServerStreamResponse> {
  const done = track(ctx, req.id);
  try {
    const payload = patternBytes(req.size);
    for (let index = 0; index < req.count; index++) {
      if (index > 0 && req.intervalMs > 0) await sleep(req.intervalMs, ctx.signal);
      if (ctx.signal.aborted) throw abortError(ctx.signal);
      yield create(ServerStreamResponseSchema, { index, payload });
      // Resumed: the server took the message, so it is on its way to the client.
      ctx.recorder.sent(req.id);
    }
    if (req.failCode !== 0) {
      throw new ConnectError(`ServerStream failed as requested after ${req.count} messages`, req.failCode as Code);
    }
  } finally {
    done();
  }
}

/** TestService.ClientStream: count messages and payload bytes, join the texts with ",". */
export async function clientStream(reqs: AsyncIterable<ClientStreamRequest>, ctx: CallContext): Promise<ClientStreamResponse> {
  let done: (() => void) | undefined;
  try {
    let count = 0;
    let totalBytes = 0n;
    const texts: string[] = [];
    for await (const req of reqs) {
      if (!done && req.id !== "") done = track(ctx, req.id);
      count++;
      totalBytes += BigInt(req.payload.byteLength);
      texts.push(req.text);
    }
    return create(ClientStreamResponseSchema, { count, totalBytes, joined: texts.join(",") });
  } finally {
    done?.();
  }
}

/** TestService.Bidi: echo each message at once, numbered from 0. */
export async function* bidi(reqs: AsyncIterable<BidiRequest>, ctx: CallContext): AsyncGenerator<BidiResponse> {
  let done: (() => void) | undefined;
  let id = "";
  try {
    let index = 0;
    for await (const req of reqs) {
      if (!done && req.id !== "") {
        id = req.id;
        done = track(ctx, id);
      }
      yield create(BidiResponseSchema, { index: index++, text: req.text, payload: req.payload });
      ctx.recorder.sent(id);
    }
  } finally {
    done?.();
  }
}

/** TestService.Fail: always throws `code`/`message` with one ErrorDetail{reason: detail}. */
export async function fail(req: FailRequest): Promise<never> {
  if (req.code < 1 || req.code > 16) {
    throw new ConnectError(`Fail: code must be a gRPC code 1..16, got ${req.code}`, Code.InvalidArgument);
  }
  throw new ConnectError(req.message, req.code as Code, undefined, [{ desc: ErrorDetailSchema, value: { reason: req.detail } }]);
}

/** TestService.Inspect: what the recorder holds for `id`. */
export async function inspect(req: InspectRequest, ctx: CallContext): Promise<InspectResponse> {
  const record = ctx.recorder.get(req.id);
  return create(InspectResponseSchema, {
    seen: record.seen,
    cancelled: record.cancelled,
    timeoutMs: BigInt(record.timeoutMs),
    messagesSent: record.messagesSent,
  });
}

/** DemoService.SayHello: "Hello, <name>!". */
export async function sayHello(req: HelloRequest): Promise<HelloReply> {
  return create(HelloReplySchema, { message: `Hello, ${req.name}!` });
}

/** DemoService.Tick: `count` ticks (0 = until cancelled), `interval_ms` apart. */
export async function* tick(req: TickRequest, ctx: CallContext): AsyncGenerator<TickReply> {
  for (let seq = 0; req.count === 0 || seq < req.count; seq++) {
    if (seq > 0) await sleep(req.intervalMs, ctx.signal);
    if (ctx.signal.aborted) return;
    yield create(TickReplySchema, { seq, timeMs: BigInt(Date.now()) });
  }
}

/** DemoService.Chat: "echo: <text>" for each message. */
export async function* chat(reqs: AsyncIterable<ChatMessage>): AsyncGenerator<ChatMessage> {
  for await (const msg of reqs) yield create(ChatMessageSchema, { text: `echo: ${msg.text}` });
}
