import { readFileSync } from "node:fs";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A share of the profiled time. */
export interface ProfileEntry {
  name: string;
  /** Percent of busy (non-idle) time. */
  percent: number;
  ms: number;
}

/** Where a target spent its CPU time while profiled. */
export interface ProfileSummary {
  file: string;
  busyMs: number;
  idleMs: number;
  /** Self time by package or Parley source file. */
  selfByArea: ProfileEntry[];
  /** Time with the area anywhere on the stack (each sample counted once per area). */
  inclusiveByArea: ProfileEntry[];
  /** Self time by function. */
  selfByFunction: ProfileEntry[];
  /** Inclusive time of Parley's own functions. */
  inclusiveParley: ProfileEntry[];
}

/** Names the area a frame belongs to: an npm package, a Parley file, a Node module, or V8. */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === "(garbage collector)") return "V8 garbage collector";
    if (functionName === "(program)") return "V8/native (program)";
    if (functionName === "(idle)") return "(idle)";
    return "native";
  }
  const nm = url.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "/node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1] ?? ""}` : (rest[0] ?? url);
  }
  const parley = /\/packages\/([^/]+)\/(?:dist|src)\/(.+)$/.exec(url);
  if (parley) return `parley ${parley[1]}: ${parley[2]}`;
  if (url.includes("/bench/dist/")) return "bench harness";
  if (url.startsWith("node:")) return url;
  return url;
}

function functionLabel(frame: CallFrame): string {
  const area = areaOf(frame);
  const name = frame.functionName || "(anonymous)";
  return area === "native" || area.startsWith("V8") ? name : `${name} — ${area}:${frame.lineNumber + 1}`;
}

function top(map: Map<string, number>, busy: number, n: number): ProfileEntry[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, ms: us / 1000, percent: busy > 0 ? (us / busy) * 100 : 0 }));
}

const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);

/** Reads a `.cpuprofile` and says where the time went. */
export function summarizeCpuProfile(file: string, entries = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  /** The area of the nearest caller with a source file: where a native function was called from. */
  const callerArea = (id: number): string => {
    for (let p = parent.get(id); p !== undefined; p = parent.get(p)) {
      const a = areaOf(byId.get(p)!.callFrame);
      if (a !== "native") return a;
    }
    return "native";
  };
  const selfArea = new Map<string, number>();
  const inclArea = new Map<string, number>();
  const selfFn = new Map<string, number>();
  const inclParley = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i] ?? 0;
    const leaf = byId.get(profile.samples[i]!);
    if (!leaf) continue;
    const area = areaOf(leaf.callFrame);
    if (area === "(idle)") {
      idle += us;
      continue;
    }
    if (area === "native" && callerArea(leaf.id) === "node:inspector") {
      // The profiler's own work.
      idle += us;
      continue;
    }
    busy += us;
    add(selfArea, area === "native" ? `${callerArea(leaf.id)} (native)` : area, us);
    add(selfFn, area === "native" ? `${leaf.callFrame.functionName} (native, from ${callerArea(leaf.id)})` : functionLabel(leaf.callFrame), us);
    const areas = new Set<string>();
    const fns = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      const a = areaOf(frame);
      areas.add(a);
      if (a.startsWith("parley ")) fns.add(functionLabel(frame));
    }
    for (const a of areas) add(inclArea, a, us);
    for (const f of fns) add(inclParley, f, us);
  }
  inclArea.delete("(root)");
  inclArea.delete("native");
  return {
    file,
    busyMs: busy / 1000,
    idleMs: idle / 1000,
    selfByArea: top(selfArea, busy, entries),
    inclusiveByArea: top(inclArea, busy, entries),
    selfByFunction: top(selfFn, busy, entries),
    inclusiveParley: top(inclParley, busy, entries),
  };
}

/** A few lines for the terminal. */
export function describeProfile(title: string, summary: ProfileSummary, lines = 10): string {
  const list = (entries: ProfileEntry[]) =>
    entries
      .slice(0, lines)
      .map((e) => `    ${e.percent.toFixed(1).padStart(5)} %  ${e.name}`)
      .join("\n");
  const total = summary.busyMs + summary.idleMs;
  return [
    `${title}: ${summary.file}`,
    `  busy ${(summary.busyMs / 1000).toFixed(1)} s of ${(total / 1000).toFixed(1)} s profiled`,
    "  self time by area:",
    list(summary.selfByArea),
    "  inclusive time by area:",
    list(summary.inclusiveByArea),
    "  inclusive time in Parley functions:",
    list(summary.inclusiveParley),
  ].join("\n");
}
