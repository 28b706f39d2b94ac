import type { Delivered } from '../../lib/pubsub.ts';
import { builder } from '../../graphql/builder.ts';
import { LogRef } from '../../graphql/refs.ts';
import type { LogView } from '../views.ts';
import { parseLogs } from './logs.schemas.ts';

LogRef.implement({
  fields: (t) => ({
    id: t.exposeInt('id'),
    sessionId: t.exposeInt('sessionId'),
    ts: t.exposeString('ts', { nullable: true }),
    level: t.exposeString('level'),
    msg: t.exposeString('msg'),
    module: t.exposeString('module', { nullable: true }),
    lineno: t.exposeInt('lineno', { nullable: true }),
    kind: t.exposeString('kind'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const LogInput = builder.inputType('LogInput', {
  fields: (t) => ({
    ts: t.string(),
    level: t.string({ description: 'DEBUG, INFO, WARNING, ERROR or CRITICAL' }),
    msg: t.string({ required: true }),
    module: t.string(),
    lineno: t.int(),
    kind: t.string({ description: 'console or error' }),
  }),
});

const LogEvent = builder.objectRef<Delivered<LogView>>('LogEvent').implement({
  fields: (t) => ({
    log: t.field({ type: LogRef, resolve: (e) => e }),
    missedBefore: t.exposeInt('missedBefore', { description: 'Lines dropped before this one because the subscriber lagged.' }),
  }),
});

builder.mutationFields((t) => ({
  pushLogs: t.field({
    type: [LogRef],
    args: { sessionId: t.arg.int({ required: true }), logs: t.arg({ type: [LogInput], required: true }) },
    resolve: (_r, { sessionId, logs }, { services }) =>
      services.logs.pushMany(sessionId, parseLogs(logs.map((l) => Object.fromEntries(Object.entries(l).filter(([, v]) => v !== null && v !== undefined))))),
  }),
}));

builder.subscriptionFields((t) => ({
  sessionLogs: t.field({
    type: LogEvent,
    args: { sessionId: t.arg.int({ required: true }) },
    subscribe: (_r, { sessionId }, { services }) => services.logs.watch(sessionId),
    resolve: (e) => e,
  }),
}));
