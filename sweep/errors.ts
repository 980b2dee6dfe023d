import { NibbleError, type DiagnosticCode } from '../arch/index.js';

/** A sweep spec is malformed or describes an empty or impossible design space. */
export class SweepSpecError extends NibbleError {
  static override readonly defaultCode: DiagnosticCode = 'NB-W000';
}

/** The results store cannot be read, locked or appended to. */
export class ResultsStoreError extends NibbleError {
  static override readonly defaultCode: DiagnosticCode = 'NB-W001';
}

/** Redis is unreachable or was lost, or a queue job is malformed. */
export class QueueError extends NibbleError {
  static override readonly defaultCode: DiagnosticCode = 'NB-W002';
}
