import path from "node:path";
import type { ScenarioContext } from "../scenarios/scenario-context.js";
import type { Target } from "../targets/target.js";
import { describeProfile, summarizeCpuProfile, type ProfileSummary } from "./cpu-profile-summary.js";

/**
 * Runs `work` with V8's sampling profiler on inside the target when the run
 * asked for profiles; writes `<profileDir>/<runId>-<name>.cpuprofile` and
 * prints where the time went.
 */
export async function profiled<T>(
  ctx: ScenarioContext,
  target: Target,
  name: string,
  work: () => Promise<T>,
): Promise<{ value: T; profile: ProfileSummary | null }> {
  if (!ctx.options.profile || target.spec.kind !== "parley") return { value: await work(), profile: null };
  await target.profileStart();
  let value: T;
  try {
    value = await work();
  } finally {
    const file = path.join(ctx.profileDir, `${ctx.runId}-${name}.cpuprofile`);
    await target.profileStop(file);
  }
  const file = path.join(ctx.profileDir, `${ctx.runId}-${name}.cpuprofile`);
  const profile = summarizeCpuProfile(file);
  ctx.progress(describeProfile(`  profile ${name}`, profile));
  return { value, profile };
}
