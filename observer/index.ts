/** Observer for TensorFlow.js: watches training, streams it to the Observer server, pauses on trouble. */
export { Observer, type AppliedRemedies, type ObserverOptions, type TransportState } from './observer.ts';
export type { PendingPrompt } from './verdict.ts';
export { ManualClock, systemClock, type Clock } from './clock.ts';
export { defaultObserverConfig, MIN_MESSAGE_BYTES, type ObserverConfig } from './config.ts';
export { PendingTimeoutError, SessionStoppedError } from './errors.ts';
export type { CustomModel, ObservableModel } from './collectors/architecture.ts';
export type { LossStats, PendingIssue, StepRecord } from './record.ts';
export type { Remedy, RemedyApplication, RemedyKind, RemedyResult } from './remedies/types.ts';
export { topRemedies } from './remedies/types.ts';
export { LEARNING_RATE_OPTIMIZERS } from './remedies/learning-rate.ts';
