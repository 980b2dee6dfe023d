import { NibbleError } from '../arch/index.js';

/** A sweep spec is malformed or describes an empty or impossible design space. */
export class SweepSpecError extends NibbleError {}

/** The results store cannot be read, locked or appended to. */
export class ResultsStoreError extends NibbleError {}

/** Redis is unreachable or was lost, or a queue job is malformed. */
export class QueueError extends NibbleError {}
