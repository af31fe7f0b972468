/**
 * The in-process upstream: implements `Upstream` by calling Connect-ES universal handlers
 * (`createConnectRouter().handlers`, what connect-node's adapter serves) in this process,
 * with no HTTP/2 and no socket in between. A tunnel stream's request becomes a
 * `UniversalServerRequest` (its body is the stream's request body, whose window credit
 * goes back only as the handler reads it) and the `UniversalServerResponse` goes back as
 * the stream's head, body (pulled as the tunnel window allows) and trailers.
 */
import { Code, ConnectError, type ContextValues } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerRequest } from "@connectrpc/connect/protocol";
import { errorResponse } from "../adapters/client-protocol.js";
import { EMPTY_BODY } from "../body.js";
import { didYouMean } from "../did-you-mean.js";
import type { ProxyRequest, ProxyResponse, Upstream } from "../exchange.js";
import type { HeaderList } from "../../protocol/index.js";

/** The URL origin handlers see in `UniversalServerRequest.url` (they read its path and query). */
export const IN_PROCESS_ORIGIN = "http://in-process.invalid";

/**
 * An `Upstream` dispatching each request to the handler registered for its path (the
 * query is ignored when matching, as connect-node does). A path with no handler is
 * answered `unimplemented` in the client's protocol, naming the service or method.
 * `contextValues` runs once per call (the handler's `ctx.values`). Throws when two
 * handlers claim the same path.
 */
export function createInProcessUpstream(handlers: readonly UniversalHandler[], contextValues?: () => ContextValues): Upstream {
  return inProcessUpstreams(handlers)(contextValues);
}

/**
 * The handlers indexed once, and an `Upstream` over them per `contextValues` source (one
 * per socket when the values come from its upgrade request).
 */
export function inProcessUpstreams(handlers: readonly UniversalHandler[]): (contextValues?: () => ContextValues) => Upstream {
  const byPath = new Map<string, UniversalHandler>();
  for (const h of handlers) {
    if (byPath.has(h.requestPath)) throw new Error(`two handlers for ${h.requestPath}; register each method once`);
    byPath.set(h.requestPath, h);
  }
  return (contextValues) =>
    async (request: ProxyRequest): Promise<ProxyResponse> => {
      const path = request.path.split("?", 1)[0]!;
      const handler = byPath.get(path);
      if (!handler) return errorResponse(request, new ConnectError(unknownMethod(path, handlers), Code.Unimplemented));
      const response = await handler(toUniversalRequest(request, contextValues?.()));
      const trailer = response.trailer;
      return {
        status: response.status,
        headers: response.header ? headerList(response.header) : [],
        body: response.body ?? EMPTY_BODY,
        trailers: () => (trailer ? headerList(trailer) : []),
      };
    };
}

/** Why `path` has no handler: the service is not served, or it has no such method (with a likely typo fixed). */
export function unknownMethod(path: string, handlers: readonly UniversalHandler[]): string {
  const [, service = "", method = ""] = /^\/([^/]*)\/?(.*)$/.exec(path) ?? [];
  const services = [...new Set(handlers.map((h) => h.service.typeName))];
  if (!services.includes(service)) {
    const served = services.length > 0 ? `; it serves ${services.join(", ")}` : "; it serves no service";
    return `no service ${service || path} in this server${didYouMean(service, services) || served}`;
  }
  const methods = handlers.filter((h) => h.service.typeName === service).map((h) => h.method.name);
  return `no method ${method} in service ${service}${didYouMean(method, methods)}`;
}

/** The tunnel request as Connect-ES's universal server request (HTTP/2 semantics). */
export function toUniversalRequest(request: ProxyRequest, contextValues?: ContextValues): UniversalServerRequest {
  const header = new Headers();
  for (const [name, value] of request.headers) if (!name.startsWith(":")) header.append(name, value);
  return {
    httpVersion: "2.0",
    method: request.method,
    url: IN_PROCESS_ORIGIN + request.path,
    header,
    body: request.body,
    signal: request.signal,
    ...(contextValues && { contextValues }),
  };
}

/** A Headers object as the tunnel's header list (lowercase names; set-cookie kept apart). */
function headerList(headers: Headers): HeaderList {
  const list: HeaderList = [];
  for (const [name, value] of headers) {
    if (name === "set-cookie") continue;
    list.push([name, value]);
  }
  for (const cookie of headers.getSetCookie()) list.push(["set-cookie", cookie]);
  return list;
}
