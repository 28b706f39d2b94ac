import { builder } from '../../graphql/builder.ts';
import { ProjectRef, SessionRef } from '../../graphql/refs.ts';

ProjectRef.implement({
  description: 'A named group of training sessions.',
  fields: (t) => ({
    id: t.exposeInt('id'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    sessions: t.field({
      type: [SessionRef],
      description: 'Sessions of this project, newest first.',
      resolve: (p, _args, { services }) => services.sessions.ofProject(p.id),
    }),
  }),
});

builder.queryFields((t) => ({
  projects: t.field({ type: [ProjectRef], resolve: (_r, _a, { services }) => services.projects.list() }),
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
    resolve: (_r, { name }, { services }) => services.projects.create({ name }),
  }),
}));
