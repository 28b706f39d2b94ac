import type { DiagnosticRunView, IssueView, LogView, ModelView, ProjectView, SessionView, StatusEvent, StepView } from '../domains/views.ts';
import type { Delivered } from '../lib/pubsub.ts';
import { builder } from './builder.ts';

/** Object types shared across domains, declared once and implemented by their domain. */
export const ProjectRef = builder.objectRef<ProjectView>('Project');
export const SessionRef = builder.objectRef<SessionView>('TrainSession');
export const ModelRef = builder.objectRef<ModelView>('Model');
export const StepRef = builder.objectRef<StepView>('TrainStep');
export const LogRef = builder.objectRef<LogView>('SessionLog');
export const RunRef = builder.objectRef<DiagnosticRunView>('DiagnosticRun');
export const IssueRef = builder.objectRef<IssueView>('DiagnosticIssue');
export const StatusEventRef = builder.objectRef<Delivered<StatusEvent>>('StatusEvent');
