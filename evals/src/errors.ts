/** Typed errors of the evals package, with stable codes. */

export const EvalsErrorCode = {
  BadDataset: 'bad_dataset',
  BadArguments: 'bad_arguments',
  MissingRecording: 'missing_recording',
  JudgeFailed: 'judge_failed',
  TargetFailed: 'target_failed',
  BadResults: 'bad_results',
} as const;
export type EvalsErrorCode = (typeof EvalsErrorCode)[keyof typeof EvalsErrorCode];

export class EvalsError extends Error {
  override readonly name = 'EvalsError';
  constructor(
    readonly code: EvalsErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
