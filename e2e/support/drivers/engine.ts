/**
 * The three browser engines the e2e suite runs in, and which of them a run selects
 * (`SWTUNNEL_ENGINES`, e.g. `chromium` or `chromium,firefox`; default all three). The
 * logic lives in scripts/engines.mjs, which scripts/run.mjs also uses before `npm ci`.
 */
export { ENGINES, type Engine, selectEngines } from "../../../scripts/engines.mjs";
