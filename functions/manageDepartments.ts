import { app } from '@azure/functions';
import { manageHandler, serveResource, MANAGE_METHODS } from '../lib/http/manage.js';

/** `api/manage/organizations/{organization}/departments[/{id}]` (the organization's etag). */
export const manageDepartments = manageHandler((c) => {
  const d = c.manage.departments;
  const org = c.request.params.organization ?? '';
  return serveResource(c, c.request.params.id, {
    list: () => d.list(c.actor, org),
    get: (id) => d.get(c.actor, org, id),
    create: (body) => d.create(c.actor, org, body),
    update: (id, patch) => d.update(c.actor, org, id, patch, c.ifMatch),
    delete: (id) => d.delete(c.actor, org, id, c.ifMatch),
  });
});

app.http('manageDepartments', {
  route: 'api/manage/organizations/{organization}/departments/{id?}',
  methods: MANAGE_METHODS,
  authLevel: 'anonymous',
  handler: manageDepartments,
});
