/** Run benchmark sections one after another, each with its own time and peak RSS. */
import os from 'node:os';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { NibbleError } from '../arch/index.js';
import { RssSampler } from './measure.js';
import type { SectionReport } from './report.js';
import { SectionUnavailable, type BenchContext, type BenchOptions, type Section } from './section.js';

/** A full collection between sections, so one section's garbage does not count in the next one's RSS. */
function collectGarbage(): void {
  try {
    v8.setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
  } catch {
    // no gc available: RSS figures then include earlier sections' garbage
  }
}

export async function runSection(section: Section, ctx: BenchContext): Promise<SectionReport> {
  collectGarbage();
  ctx.sampler = new RssSampler();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const base = { name: section.name, title: section.title, tables: [], goals: [], notes: [], data: {} };
  try {
    const out = await section.run(ctx);
    ctx.sampler.sample();
    const cpu = process.cpuUsage(cpu0);
    return {
      ...base,
      ...out,
      status: 'ok',
      seconds: (performance.now() - t0) / 1000,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      peakRssMiB: ctx.sampler.peakMiB,
      loadAverage: os.loadavg()[0]!,
    };
  } catch (e) {
    const seconds = (performance.now() - t0) / 1000;
    if (e instanceof SectionUnavailable)
      return { ...base, status: 'unavailable', message: e.message, seconds, peakRssMiB: ctx.sampler.peakMiB };
    // a user-facing error from the measured code is reported as such; anything else is a bug, with its stack
    const message =
      e instanceof NibbleError ? `${e.name}: ${e.message}` : e instanceof Error ? (e.stack ?? e.message) : String(e);
    return { ...base, status: 'failed', message, seconds, peakRssMiB: ctx.sampler.peakMiB };
  }
}

export async function runSections(
  sections: readonly Section[],
  options: BenchOptions,
  hooks: { log?: (m: string) => void; onSection?: (r: SectionReport) => void } = {},
): Promise<SectionReport[]> {
  const ctx: BenchContext = {
    options,
    sampler: new RssSampler(),
    ceiling: undefined,
    log: hooks.log ?? (() => {}),
  };
  const reports: SectionReport[] = [];
  for (const s of sections) {
    const r = await runSection(s, ctx);
    hooks.onSection?.(r);
    reports.push(r);
  }
  return reports;
}
