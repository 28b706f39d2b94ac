import { diagnosticRoutes } from '../domains/diagnostics/diagnostics.rest.ts';
import { logRoutes } from '../domains/logs/logs.rest.ts';
import { projectRoutes } from '../domains/projects/projects.rest.ts';
import { remedyRoutes } from '../domains/remedies/remedies.rest.ts';
import { sessionRoutes } from '../domains/sessions/sessions.rest.ts';
import { stepRoutes } from '../domains/steps/steps.rest.ts';
import type { Services } from '../services.ts';
import type { Route } from './router.ts';

/** Every REST route of the legacy contract (the access matrix test is generated from this list). */
export const restRoutes = (s: Services): Route[] => [...projectRoutes(s), ...sessionRoutes(s), ...stepRoutes(s), ...logRoutes(s), ...diagnosticRoutes(s), ...remedyRoutes(s)];
