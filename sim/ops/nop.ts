/** NOP (SYNC) in the engines: one cycle on its unit, tokens only. */
import { UNIT_COMPUTE, UNIT_LOAD } from '../../isa/index.js';
import { NOTHING, noLaneActions, occupancy, type SimOp } from './define.js';

export const NOP_SIM: SimOp<'NOP'> = {
  timing: (inst) => (inst.unit === UNIT_COMPUTE ? occupancy('vector', 1) : occupancy('dma', 1, 0)),
  execute: NOTHING,
  cycle: { unit: 'token' },
  access: NOTHING,
  laneActions: noLaneActions,
  // tokens only: no data effect
  naive: () => undefined,
  random: {
    load(round) {
      // from round 2 on, the loads into this round's buffer half wait for the compute of round r-2
      if (round.r >= 2) round.load.push({ ...round.nop(UNIT_LOAD), pop_next: 1 });
      round.maybeNop(round.load, UNIT_LOAD);
    },
    compute(round) {
      round.maybeNop(round.compute, UNIT_COMPUTE);
    },
  },
};
