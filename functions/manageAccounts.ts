import { app } from '@azure/functions';
import { manageHandler, serveResource, MANAGE_METHODS } from '../lib/http/manage.js';

/**
 * `api/manage/endpoints/{endpoint}/accounts[/{id}]`: an endpoint's accounts. Creating one
 * answers its challenge (or, for `"kind": "ndes"`, the NDES page's username and password) once.
 */
export const manageAccounts = manageHandler((c) => {
  const a = c.manage.accounts;
  const endpoint = c.request.params.endpoint ?? '';
  return serveResource(c, c.request.params.id, {
    list: () => a.list(c.actor, endpoint, c.page),
    get: (id) => a.get(c.actor, endpoint, id),
    create: (body) => a.create(c.actor, endpoint, body),
    update: (id, patch) => a.update(c.actor, endpoint, id, patch, c.ifMatch),
    delete: (id) => a.delete(c.actor, endpoint, id, c.ifMatch),
  });
});

app.http('manageAccounts', {
  route: 'api/manage/endpoints/{endpoint}/accounts/{id?}',
  methods: MANAGE_METHODS,
  authLevel: 'anonymous',
  handler: manageAccounts,
});
