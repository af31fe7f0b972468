/**
 * The recorded part of docs/BENCHMARKS.md's "Per-hop latency budget" section: what the
 * budget measures, and the before/after figures of the changes made from it (issue 10).
 * `npm run bench` appends this run's tables after it (bench/hops.ts renderHopsSection).
 */
export const hopsRecord = `## Per-hop latency budget

\`node dist/bench/hops.js\` (or \`npm run bench -- --only hops\`) runs sequential hello calls
through the page SDK and through the worker's fetch path with an opt-in trace hook
(protocol/trace.ts) recording named points in the page, the worker and the gateway. The
page and the worker share one clock (\`performance.timeOrigin + performance.now()\`); the
gateway's \`process.hrtime\` is aligned per call NTP-style from the HEADERS frame going out
(worker) and in (gateway) and the last response frame going out (gateway) and in (worker),
assuming both directions take equally long (off by at most half the time on the wire, which
each table prints).
Steps within one realm are exact; a step that crosses the worker/gateway boundary carries the
alignment error. With the hook off every call site is one load and one test. Chromium over raw
CDP, cross-origin isolated pages, the Connect backend on h2c (as in the browser bench).
\`node dist/bench/hops-gateway-cpu.js\` profiles the gateway's CPU per call.

### Before and after (2026-12-02, issue 10)

**Machine load caveat**: measured while five other engineers ran test suites on the same
2 cores (load average 10-14), so every figure is 3-5x what an idle machine shows and whole
runs vary by ±40%. The figures below are medians of 3 runs of 400 calls, before and after
alternated back to back; read the per-step columns (within one realm) rather than the totals.

Page SDK (median µs; "at" = since the call started, "step" = since the point before):

| point | before: at | after: at | before: step | after: step |
|---|---:|---:|---:|---:|
| \`p.post\` page posts \`start\` | 650 | 645 | 650 | 645 |
| \`w.in\` worker receives it | 750 | 760 | 70 | 65 |
| \`w.out.first\` HEADERS to the WebSocket | 1045 | 1120 | 180 | 230 |
| \`w.out.last\` END_STREAM to the WebSocket | 1405 | 1172 | **295** | **40** |
| \`g.in.last\` gateway has the whole request | 2221 | 1971 | 876 | 634 |
| \`g.up.end\` upstream request sent | 2264 | 2033 | — | — |
| \`g.up.resp\` upstream response head | 2852 | 2776 | 583 | 651 |
| \`g.out.last\` gateway sends the last frame | 3886 | 3467 | 40 | 25 |
| \`w.in.last\` worker has the last frame | 4088 | 3713 | 900 | 620 |
| \`p.head\` page has the head | 3752 | 3333 | 160 | 125 |
| \`p.done\` call resolved | **4550** | **3947** | 588 | 365 |

Worker fetch path: \`w.in\` -> \`w.out.first\` 563 -> 295 µs (the status broadcast), the
rest unchanged within the noise; \`p.done\` 4530 -> 4598 µs. The largest fetch-path step is the
browser's own: from the worker's \`respondWith\` Response to the page's \`fetch\` resolving
and connect-web reading it, ~1.7 ms at this load, with a streamed or a bytes body alike (a
bytes body for Connect unary answers was tried and measured no faster, and was dropped).

What was removed:

- **A BroadcastChannel status message per call** (worker): every counter change posted a
  snapshot to every page of the scope, ~200 µs of the worker's time between a call's HEADERS
  and its END_STREAM, and a message each page had to receive. Counter changes are now
  posted at most every 100 ms (status changes still at once).
- **An iterable request body for a body the page sent complete** (worker): a unary call's
  body travelled as a queue the tunnel client pulled chunk by chunk, then an empty DATA frame
  for the end. Now bytes: HEADERS and one DATA with END_STREAM (3 frames -> 2 per call).
- **One socket write per frame** (gateway): the tunnel socket is corked from a turn's first
  frame to the end of the turn, so a response's HEADERS, DATA and TRAILERS (and the frames
  of all streams answered in that turn) leave in one write.
- **prom-client label hashing per frame** (gateway): frame and byte counters are plain
  numbers handed to prom-client when /metrics is scraped.
- **An event-loop turn after an upstream body whose stream already closed** (gateway).

Gateway CPU per call (\`node dist/bench/hops-gateway-cpu.js --calls 10000 --no-profile\`,
grpc-js backend, 64 in flight; same load caveat; runs 2-3 of each, alternated): before 137,
150, 154, 167 µs, after 126, 134, 139, 140 µs (median ~152 -> ~137 µs, target 75 µs not met).
The profile is spread thin: the socket writes (\`writev\`, ~25% of busy time, mostly the
loopback TCP stack), garbage collection (~15%), node:http2's per-stream setup and events, and
no single function of the gateway above 1.5%.

What the budget shows is left, largest first:

1. **A fresh MessagePort per sequential call** (page SDK, ~500-700 µs at this load): a port
   takes new calls only while calls run on it, so each call of a sequential loop opens a port
   through \`controller.postMessage\` (the browser process) and closes the old one. Reusing an
   idle port for a few seconds measured \`p.call\` -> \`p.post\` 645 -> 145 µs and the call
   ~700 µs shorter, but breaks a tested guarantee (a call made right after the browser stopped
   the worker is neither lost nor run twice). Not changed; see docs/DECISIONS.md.
2. **The browser's fetch round trip to the worker** (fetch path, ~600 µs in, ~1.7 ms out).
3. **The backend** (\`g.up.end\` -> \`g.up.resp\` ~400-650 µs; the Connect backend sends its
   head, body and end in separate writes, \`g.up.resp\` -> \`g.up.last\` ~130-460 µs).
4. **The worker's head gathering** (page SDK): the head goes to the page before the last
   frame arrives (\`w.post\` precedes \`w.in.last\`), so the page waits for a second message.
`;
