/**
 * TestService and DemoService on a pure gRPC server (@grpc/grpc-js), insecure HTTP/2.
 * The ServiceDefinition is built from the protoc-gen-es service descriptors, with
 * toBinary/fromBinary as (de)serializers, so no proto-loader is involved.
 */
import { addAbortSignal, type Duplex, type Readable, type Writable } from "node:stream";
import { create, toBinary, fromBinary, type DescService } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  Metadata,
  Server,
  ServerCredentials,
  type MethodDefinition,
  type ServerErrorResponse,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { StatusSchema } from "../gen/google/rpc/status_pb.js";
import { DemoService } from "../gen/swtunnel/demo/v1/demo_pb.js";
import { TestService } from "../gen/swtunnel/test/v1/test_pb.js";
import { closeGraceMs, type Backend, type ListenOptions } from "./backend.js";
import { echoTrailerName, isEchoHeader } from "./metadata-echo.js";
import { Recorder } from "./recorder.js";
import * as svc from "./service.js";

/** Options of {@link startGrpcBackend}. */
export interface GrpcBackendOptions extends ListenOptions {
  /** Largest message the server accepts or sends, in bytes. Default 64 MiB (benchmarks send big ones). */
  maxMessageBytes?: number;
}

const defaultMaxMessageBytes = 64 * 1024 * 1024;

/** Builds a grpc-js ServiceDefinition from a protobuf-es service descriptor. */
export function grpcServiceDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    const kind = method.methodKind;
    definition[method.name] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: kind === "client_streaming" || kind === "bidi_streaming",
      responseStream: kind === "server_streaming" || kind === "bidi_streaming",
      // The generic descriptor loses the message type; the values are that type at run time.
      requestSerialize: (value) => Buffer.from(toBinary(method.input, value as never)),
      requestDeserialize: (bytes) => fromBinary(method.input, bytes),
      responseSerialize: (value) => Buffer.from(toBinary(method.output, value as never)),
      responseDeserialize: (bytes) => fromBinary(method.output, bytes),
      originalName: method.localName,
    };
  }
  return definition as ServiceDefinition;
}

/** Starts the grpc-js backend on 127.0.0.1 and a free port unless told otherwise. */
export async function startGrpcBackend(options: GrpcBackendOptions = {}): Promise<Backend> {
  const host = options.host ?? "127.0.0.1";
  const recorder = options.recorder ?? new Recorder();
  const maxBytes = options.maxMessageBytes ?? defaultMaxMessageBytes;
  const server = new Server({
    "grpc.max_receive_message_length": maxBytes,
    "grpc.max_send_message_length": maxBytes,
  });
  server.addService(grpcServiceDefinition(TestService), testImplementation(recorder));
  server.addService(grpcServiceDefinition(DemoService), demoImplementation(recorder));
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${options.port ?? 0}`, ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(new Error(`grpc backend: cannot listen on ${host}:${options.port ?? 0}: ${err.message}`)) : resolve(bound),
    );
  });
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    recorder,
    close: () => closeGrpcServer(server),
  };
}

function closeGrpcServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, closeGraceMs);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}

// ---- call plumbing -------------------------------------------------------------------

interface GrpcCall {
  metadata: Metadata;
  getDeadline(): Date | number;
  sendMetadata(md: Metadata): void;
  on(event: "cancelled", listener: () => void): unknown;
}

interface Prepared {
  ctx: svc.CallContext;
  trailers: Metadata;
  /** Clears the deadline timer; call when the handler is done. */
  finish(): void;
}

/** Sends the echo headers, and makes the CallContext (signal from cancel and deadline). */
function prepare(call: GrpcCall, recorder: Recorder): Prepared {
  const headers = new Metadata();
  const trailers = new Metadata();
  for (const [name, values] of Object.entries(call.metadata.toJSON())) {
    if (!isEchoHeader(name)) continue;
    for (const value of values) {
      headers.add(name, value);
      trailers.add(echoTrailerName(name), value);
    }
  }
  call.sendMetadata(headers);

  const controller = new AbortController();
  call.on("cancelled", () => controller.abort(new ConnectError("call cancelled by the client", Code.Canceled)));
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  const timeoutMs = Number.isFinite(deadlineMs) ? Math.max(0, deadlineMs - Date.now()) : undefined;
  // grpc-js answers DEADLINE_EXCEEDED itself but does not stop the handler; this does.
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => controller.abort(new ConnectError("deadline exceeded", Code.DeadlineExceeded)), timeoutMs);
  return {
    ctx: { signal: controller.signal, timeoutMs, recorder },
    trailers,
    finish: () => clearTimeout(timer),
  };
}

/** Maps any error to a grpc-js status; ConnectError details go to grpc-status-details-bin. */
export function toGrpcError(err: unknown, trailers: Metadata): Partial<ServerErrorResponse> {
  const error = ConnectError.from(err);
  const metadata = trailers.clone();
  if (error.details.length > 0) {
    const status = create(StatusSchema, {
      code: error.code,
      message: error.rawMessage,
      details: error.details.map((detail) =>
        "desc" in detail
          ? {
              typeUrl: `type.googleapis.com/${detail.desc.typeName}`,
              value: toBinary(detail.desc, create(detail.desc, detail.value)),
            }
          : { typeUrl: `type.googleapis.com/${detail.type}`, value: detail.value },
      ),
    });
    metadata.set("grpc-status-details-bin", Buffer.from(toBinary(StatusSchema, status)));
  }
  // Connect codes are the gRPC status numbers.
  return { code: error.code as number, details: error.rawMessage, metadata };
}

/** Resolves on 'drain'; rejects if the signal aborts first (a slow reader that went away). */
function drained(stream: Writable, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    };
    const onAbort = (): void => {
      stream.off("drain", onDrain);
      reject(ConnectError.from(signal.reason, Code.Canceled));
    };
    if (signal.aborted) return onAbort();
    stream.once("drain", onDrain);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

type UnaryFn = (req: never, ctx: svc.CallContext) => Promise<unknown>;
type ServerStreamFn = (req: never, ctx: svc.CallContext) => AsyncIterable<unknown>;
type ClientStreamFn = (reqs: AsyncIterable<never>, ctx: svc.CallContext) => Promise<unknown>;
type BidiFn = (reqs: AsyncIterable<never>, ctx: svc.CallContext) => AsyncIterable<unknown>;

type UnaryCall = GrpcCall & { request: never };
type Callback = (err: Partial<ServerErrorResponse> | null, value?: unknown, trailer?: Metadata) => void;
type WritableCall = GrpcCall & Writable & { request: never; cancelled: boolean; end(md?: Metadata): unknown };
type ReadableCall = GrpcCall & Readable;
type DuplexCall = GrpcCall & Duplex & { cancelled: boolean; end(md?: Metadata): unknown };

function unaryHandler(recorder: Recorder, fn: UnaryFn) {
  return (call: UnaryCall, callback: Callback): void => {
    const { ctx, trailers, finish } = prepare(call, recorder);
    fn(call.request, ctx)
      .then(
        (res) => callback(null, res, trailers),
        (err: unknown) => callback(toGrpcError(err, trailers)),
      )
      .finally(finish);
  };
}

/** Writes every item, waiting for 'drain' whenever write() says the buffer is full. */
async function writeAll(call: WritableCall | DuplexCall, items: AsyncIterable<unknown>, signal: AbortSignal) {
  for await (const item of items) {
    if (!call.write(item)) await drained(call, signal);
  }
}

function serverStreamHandler(recorder: Recorder, fn: ServerStreamFn) {
  return async (call: WritableCall): Promise<void> => {
    const { ctx, trailers, finish } = prepare(call, recorder);
    try {
      await writeAll(call, fn(call.request, ctx), ctx.signal);
      call.end(trailers);
    } catch (err) {
      if (!call.cancelled && !ctx.signal.aborted) call.emit("error", toGrpcError(err, trailers));
    } finally {
      finish();
    }
  };
}

/**
 * The request messages of a client-streaming or bidi call. Read through events, not the
 * Readable async iterator: on Node 22 that iterator waits for the Duplex's 'close', which a
 * grpc-js call emits only after the server ended its own side, so a bidi handler never saw
 * the end of the requests. Pauses the call while 16 messages wait (back-pressure).
 */
async function* incoming(call: Readable): AsyncGenerator<never> {
  const queue: never[] = [];
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  call.on("data", (message: unknown) => {
    queue.push(message as never);
    if (queue.length >= 16) call.pause();
    notify();
  });
  // grpc-js ends the readable before it emits "cancelled" when the client resets the
  // stream: look once more after the events of this turn, so a cancel is not taken for
  // the end of the requests (the handler would finish as if the client had half-closed).
  call.once("end", () => {
    setImmediate(() => {
      ended = true;
      notify();
    });
  });
  call.once("error", (err) => {
    failure = err;
    notify();
  });
  for (;;) {
    if (queue.length > 0) {
      const message = queue.shift()!;
      if (queue.length < 8 && call.isPaused()) call.resume();
      yield message;
    } else if (failure !== undefined) {
      throw failure;
    } else if (ended) {
      return;
    } else {
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }
}

function clientStreamHandler(recorder: Recorder, fn: ClientStreamFn) {
  return (call: ReadableCall, callback: Callback): void => {
    const { ctx, trailers, finish } = prepare(call, recorder);
    // Destroying the readable on cancel ends the handler's for-await with an error.
    addAbortSignal(ctx.signal, call);
    fn(incoming(call), ctx)
      .then(
        (res) => callback(null, res, trailers),
        (err: unknown) => callback(toGrpcError(err, trailers)),
      )
      .finally(finish);
  };
}

function bidiHandler(recorder: Recorder, fn: BidiFn) {
  return async (call: DuplexCall): Promise<void> => {
    const { ctx, trailers, finish } = prepare(call, recorder);
    addAbortSignal(ctx.signal, call);
    try {
      await writeAll(call, fn(incoming(call), ctx), ctx.signal);
      call.end(trailers);
    } catch (err) {
      if (!call.cancelled && !ctx.signal.aborted) call.emit("error", toGrpcError(err, trailers));
    } finally {
      finish();
    }
  };
}

function testImplementation(recorder: Recorder): UntypedServiceImplementation {
  return {
    Unary: unaryHandler(recorder, svc.unary as UnaryFn),
    ServerStream: serverStreamHandler(recorder, svc.serverStream as ServerStreamFn),
    ClientStream: clientStreamHandler(recorder, svc.clientStream as ClientStreamFn),
    Bidi: bidiHandler(recorder, svc.bidi as BidiFn),
    Fail: unaryHandler(recorder, svc.fail as UnaryFn),
    Inspect: unaryHandler(recorder, svc.inspect as UnaryFn),
  } as unknown as UntypedServiceImplementation;
}

function demoImplementation(recorder: Recorder): UntypedServiceImplementation {
  return {
    SayHello: unaryHandler(recorder, svc.sayHello as UnaryFn),
    Tick: serverStreamHandler(recorder, svc.tick as ServerStreamFn),
    Chat: bidiHandler(recorder, svc.chat as BidiFn),
  } as unknown as UntypedServiceImplementation;
}
