import { app } from '@azure/functions';
import { manageHandler, serveResource, MANAGE_METHODS } from '../lib/http/manage.js';

/** `api/manage/organizations[/{id}]`: who owns endpoints, accounts and certificates. */
export const manageOrganizations = manageHandler((c) => {
  const o = c.manage.organizations;
  return serveResource(c, c.request.params.id, {
    list: () => o.list(c.actor, c.page),
    get: (id) => o.get(c.actor, id),
    create: (body) => o.create(c.actor, body),
    update: (id, patch) => o.update(c.actor, id, patch, c.ifMatch),
    delete: (id) => o.delete(c.actor, id, c.ifMatch),
  });
});

app.http('manageOrganizations', {
  route: 'api/manage/organizations/{id?}',
  methods: MANAGE_METHODS,
  authLevel: 'anonymous',
  handler: manageOrganizations,
});
