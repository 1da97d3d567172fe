import { app } from '@azure/functions';
import { manageHandler, serveResource, MANAGE_METHODS } from '../lib/http/manage.js';

/** `api/manage/endpoints[/{name}]`: list, create, read, merge-patch, delete SCEP endpoints. */
export const manageEndpoints = manageHandler((c) => {
  const e = c.manage.endpoints;
  return serveResource(c, c.request.params.name, {
    list: () => e.list(c.actor, c.page),
    get: (name) => e.get(c.actor, name),
    create: (body) => e.create(c.actor, body),
    update: (name, patch) => e.update(c.actor, name, patch, c.ifMatch),
    delete: (name) => e.delete(c.actor, name, c.ifMatch),
  });
});

app.http('manageEndpoints', {
  route: 'api/manage/endpoints/{name?}',
  methods: MANAGE_METHODS,
  authLevel: 'anonymous',
  handler: manageEndpoints,
});
