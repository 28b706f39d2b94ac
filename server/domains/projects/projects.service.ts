import type { Db } from '../../db/client.ts';
import { notFound } from '../../errors.ts';
import { PAGE, pageSize } from '../../lib/pagination.ts';
import type { ProjectView } from '../views.ts';
import type { CreateProjectInput } from './projects.schemas.ts';

/** Projects: named groups of training sessions. */
export class ProjectsService {
  constructor(private readonly db: Db) {}

  /** Projects oldest first, after the project id `after`: at most `first` (1,000 by default and at most). */
  list(opts: { first?: number | null; after?: number | null } = {}): Promise<ProjectView[]> {
    const take = pageSize(opts.first, PAGE.projects);
    return this.db.project.findMany({ where: opts.after != null ? { id: { gt: opts.after } } : {}, orderBy: { id: 'asc' }, take });
  }

  /** @throws DomainError NOT_FOUND */
  async get(id: number): Promise<ProjectView> {
    const p = await this.db.project.findUnique({ where: { id } });
    if (!p) throw notFound('Project', id);
    return p;
  }

  /** @throws DomainError VALIDATION_FAILED when the name is missing or empty */
  async create({ name }: CreateProjectInput): Promise<ProjectView> {
    return this.db.project.create({ data: { name } });
  }
}
