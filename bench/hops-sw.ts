/**
 * The latency-budget benchmark's Service Worker: the ready-made worker (sw/entry.ts) with
 * the trace hook recording, and a message that returns (and clears) the worker's marks.
 */
import "../sw/entry.js";
import { HOPS_MESSAGE, browserNowUs, installHopRecorder } from "./hops-recorder.js";

const recorder = installHopRecorder(browserNowUs);

self.addEventListener("message", (event) => {
  const e = event as MessageEvent<{ type?: string; op?: string }>;
  if (e.data?.type !== HOPS_MESSAGE) return;
  const port = e.ports[0];
  if (!port) return;
  const marks = e.data.op === "dump" ? recorder.marks() : {};
  recorder.reset();
  port.postMessage(marks);
});
