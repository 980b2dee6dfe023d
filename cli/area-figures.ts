/** The silicon-area line `nibble config`, `sim` and `report` print (sim/area.ts). */
import type { ArchConfig } from '../arch/index.js';
import { requirePart } from './modules.js';

export type AreaReport = import('../sim/index.js').AreaReport;
type SimApi = typeof import('../sim/index.js');

export async function areaOf(cfg: ArchConfig, feature: string): Promise<AreaReport> {
  const api = await requirePart<SimApi>('sim', ['estimateArea'], feature);
  return api.estimateArea(cfg);
}

/** e.g. `1.67 mm2 at 45 nm: PE array 0.0492, SRAM 1.52, requant and pool 0.0271, skew registers 0.0327, ...` */
export function areaLine(a: AreaReport): string {
  const c = a.byComponent;
  const sram = c['sram.inp'] + c['sram.wgt'] + c['sram.acc'] + c['sram.out'] + c['sram.param'];
  const f = (x: number) => x.toPrecision(3);
  return (
    `${f(a.totalMm2)} mm2 at ${a.nodeNm} nm: PE array ${f(c.pe)}, SRAM ${f(sram)}, requant and pool ${f(c.requant + c.pool)}, ` +
    `skew registers ${f(c.skew)}, queues, DMA and control ${f(c.queues + c.dma + c.control)} (estimate, sim/area.ts)`
  );
}
