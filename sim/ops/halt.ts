/** HALT in the engines: dispatched by fetch, executed by no unit. */
import { NOTHING, noLaneActions, occupancy, type SimOp } from './define.js';

export const HALT_SIM: SimOp<'HALT'> = {
  timing: () => occupancy('fetch', 1),
  execute: NOTHING,
  cycle: { unit: 'fetch' },
  access: NOTHING,
  laneActions: noLaneActions,
  naive(_h, m) {
    m.halted = true;
  },
  // random programs end with the one HALT the generator appends
  random: {},
};
