/**
 * A small live latency chart in plain SVG: one line per path (tunnel, direct) over the
 * last probes, the y axis scaled to the largest value shown. No chart library.
 */
const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 600;
const HEIGHT = 160;
const PAD = { left: 44, right: 8, top: 8, bottom: 18 };

export class LatencyChart {
  private readonly lines: Record<string, SVGPolylineElement> = {};
  private readonly axis: SVGTextElement;

  constructor(
    private readonly svg: SVGSVGElement,
    private readonly points = 60,
  ) {
    svg.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
    svg.setAttribute("role", "img");
    const frame = document.createElementNS(SVG, "rect");
    for (const [k, v] of Object.entries({
      x: PAD.left,
      y: PAD.top,
      width: WIDTH - PAD.left - PAD.right,
      height: HEIGHT - PAD.top - PAD.bottom,
      class: "frame",
    }))
      frame.setAttribute(k, String(v));
    svg.append(frame);
    this.axis = this.label(PAD.left - 4, PAD.top + 10, "end");
    this.label(PAD.left - 4, HEIGHT - PAD.bottom, "end").textContent = "0";
    this.label(WIDTH - PAD.right, HEIGHT - 4, "end").textContent = "now";
    this.label(PAD.left, HEIGHT - 4, "start").textContent = `${points} probes ago`;
  }

  /** Redraws every series (values in ms, newest last). */
  draw(series: Record<string, readonly number[]>): void {
    const max = Math.max(1, ...Object.values(series).flat());
    const top = niceCeiling(max);
    this.axis.textContent = `${top} ms`;
    const w = WIDTH - PAD.left - PAD.right;
    const h = HEIGHT - PAD.top - PAD.bottom;
    for (const [name, values] of Object.entries(series)) {
      const line = (this.lines[name] ??= this.polyline(name));
      const offset = this.points - values.length;
      line.setAttribute(
        "points",
        values
          .map((v, i) => `${(PAD.left + ((offset + i) / (this.points - 1)) * w).toFixed(1)},${(PAD.top + h - (v / top) * h).toFixed(1)}`)
          .join(" "),
      );
    }
  }

  private polyline(name: string): SVGPolylineElement {
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("class", `series ${name}`);
    this.svg.append(line);
    return line;
  }

  private label(x: number, y: number, anchor: "start" | "end"): SVGTextElement {
    const text = document.createElementNS(SVG, "text");
    text.setAttribute("x", String(x));
    text.setAttribute("y", String(y));
    text.setAttribute("text-anchor", anchor);
    text.setAttribute("class", "axis");
    this.svg.append(text);
    return text;
  }
}

/** The smallest 1, 2 or 5 × 10^n at or above `v`, so the axis reads well. */
export function niceCeiling(v: number): number {
  const base = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * base >= v) return m * base;
  return 10 * base;
}
