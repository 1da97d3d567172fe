import { app } from '@azure/functions';
import { manageHandler, serveResource, MANAGE_METHODS } from '../lib/http/manage.js';

/** `api/manage/administrators[/{principalId}]`: Entra object id → scope (PUT sets it whole). */
export const manageAdministrators = manageHandler((c) => {
  const a = c.manage.administrators;
  return serveResource(c, c.request.params.principalId, {
    list: () => a.list(c.actor, c.page),
    get: (id) => a.get(c.actor, id),
    put: (id, body) => a.put(c.actor, id, body, c.ifMatch),
    delete: (id) => a.delete(c.actor, id, c.ifMatch),
  });
});

app.http('manageAdministrators', {
  route: 'api/manage/administrators/{principalId?}',
  methods: MANAGE_METHODS,
  authLevel: 'anonymous',
  handler: manageAdministrators,
});
