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

**Machine load caveat**: a shared 2-core machine with other engineers' test suites running;
these figures were taken in a quieter spell (load average 1.5-3); earlier runs at load 10-14
showed the same steps 2-3x larger. Medians of 3 runs of 400 traced calls, before and after
alternated back to back. Steps within one realm are the reliable columns.

Page SDK, µs (before -> after): **3788 -> 3307 per call** (3/3 runs faster)

| point | at: before | at: after | step: before | step: after |
|---|---:|---:|---:|---:|
| \`p.post\` page posts \`start\` | 295 | 335 | 295 | 335 |
| \`w.in\` worker receives it | 683 | 655 | 293 | 290 |
| \`w.out.first\` HEADERS to the WebSocket | 840 | 817 | 125 | 130 |
| \`w.out.last\` END_STREAM to the WebSocket | 1020 | 865 | **145** | **25** |
| \`g.in.last\` gateway has the whole request | 1629 | 1391 | 395 | 240 |
| \`g.up.end\` upstream request sent | 1670 | 1445 | — | — |
| \`g.up.resp\` upstream response head | 2345 | 2118 | 642 | 655 |
| \`g.out.first\` response HEADERS sent | 2465 | 2168 | 106 | 50 |
| \`g.out.last\` last frame sent | 2737 | 2340 | 23 | 13 |
| \`w.in.last\` worker has the last frame | 3088 | 2647 | 480 | 270 |
| \`p.head\` page has the head | 2903 | 2560 | 110 | 110 |
| \`p.done\` call resolved | **3390** | **2868** | 418 | 230 |

Worker fetch path: **3787 -> 3462 µs per call** (3/3 runs faster); \`w.in\` ->
\`w.out.first\` 305 -> 195 µs, \`g.up.resp\` -> \`g.out.first\` 106 -> 48 µs, \`p.done\`
3553 -> 3200 µs. Its largest steps are the browser's own: the page's \`fetch\` to the
worker's fetch event (~620 µs) and the worker's Response to the page's call resolving
(~1.0-1.2 ms). A bytes body for Connect unary answers (instead of a stream) was tried and
measured slower (3518 -> 3785 µs), and was dropped.

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
grpc-js backend, 64 in flight, load ~2.5; the 2nd and 3rd run of three rounds, alternated):
before 108-118 µs (median 112), after 83-102 µs (median 100); the target of 75 µs is not met.
The profile is spread thin: the socket writes (\`writev\`, ~25% of busy time, mostly the
loopback TCP stack), garbage collection (~15%), node:http2's per-stream setup and events, and
no single function of the gateway above 1.5%.

What the budget shows is left, largest first:

1. **A fresh MessagePort per sequential call** (page SDK, ~500-700 µs at load 10): a port
   takes new calls only while calls run on it, so each call of a sequential loop opens a port
   through \`controller.postMessage\` (the browser process) and closes the old one. Reusing an
   idle port for a few seconds measured \`p.call\` -> \`p.post\` 645 -> 145 µs and the call
   ~700 µs shorter, but breaks a tested guarantee (a call made right after the browser stopped
   the worker is neither lost nor run twice). Not changed; see docs/DECISIONS.md.
2. **The browser's fetch round trip to the worker** (fetch path, ~600 µs in, ~1 ms out).
3. **The backend** (\`g.up.end\` -> \`g.up.resp\` ~400-650 µs; the Connect backend sends its
   head, body and end in separate writes, \`g.up.resp\` -> \`g.up.last\` ~130-460 µs).
4. **The worker's head gathering** (page SDK): the head goes to the page before the last
   frame arrives (\`w.post\` precedes \`w.in.last\`), so the page waits for a second message.
`;
