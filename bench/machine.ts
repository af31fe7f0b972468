/** The machine a benchmark ran on, for the report. */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { cpus, release, totalmem, type } from "node:os";
import { promisify } from "node:util";
import { CHROMIUM_PATH } from "../tools/chromium.js";

/** CPU, OS and runtime versions. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  chromium: string;
}

/** Collects {@link MachineInfo}; the Chromium version comes from `chromium --version`. */
export async function machineInfo(): Promise<MachineInfo> {
  const cpuList = cpus();
  let os = `${type()} ${release()}`;
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(await readFile("/etc/os-release", "utf8"));
    if (pretty) os = `${pretty[1]} (${type()} ${release()})`;
  } catch {
    // not Linux: keep os.type()
  }
  let chromium = "unknown";
  try {
    const bin = CHROMIUM_PATH;
    chromium = (await promisify(execFile)(bin, ["--version"])).stdout.trim();
  } catch {
    // reported as unknown
  }
  return {
    cpu: cpuList[0]?.model.trim() ?? "unknown",
    cores: cpuList.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os,
    node: process.version,
    chromium,
  };
}
