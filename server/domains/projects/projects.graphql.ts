import { builder } from '../../graphql/builder.ts';
import { ProjectRef, SessionRef } from '../../graphql/refs.ts';
import { parseProject } from './projects.schemas.ts';

ProjectRef.implement({
  description: 'A named group of training sessions.',
  fields: (t) => ({
    id: t.exposeInt('id'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    sessions: t.field({
      type: [SessionRef],
      description: 'Sessions of this project, newest first, before the session id `after`; at most `first` (1 to 1000, default 1000).',
      args: { first: t.arg.int(), after: t.arg.int() },
      resolve: (p, args, { services }) => services.sessions.ofProject(p.id, args),
    }),
  }),
});

builder.queryFields((t) => ({
  projects: t.field({
    type: [ProjectRef],
    description: 'Projects oldest first, after the project id `after`; at most `first` (1 to 1000, default 1000).',
    args: { first: t.arg.int(), after: t.arg.int() },
    resolve: (_r, args, { services }) => services.projects.list(args),
  }),
  project: t.field({
    type: ProjectRef,
    args: { id: t.arg.int({ required: true }) },
    resolve: (_r, { id }, { services }) => services.projects.get(id),
  }),
}));

builder.mutationFields((t) => ({
  createProject: t.field({
    type: ProjectRef,
    args: { name: t.arg.string({ required: true }) },
    resolve: (_r, { name }, { services }) => services.projects.create(parseProject({ name })),
  }),
}));
