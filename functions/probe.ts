import { app } from '@azure/functions';
import { httpHandler } from '../lib/http/handler.js';
import { probe as runProbe } from '../lib/probe.js';

/** Health: 200 when settings, the CA key and the certificate store answer; 503 otherwise. */
export const probe = httpHandler(async (a) => {
  const r = await runProbe(a);
  return { status: r.ok ? 200 : 503, jsonBody: r };
});

app.http('probe', { route: 'probe', methods: ['GET'], authLevel: 'anonymous', handler: probe });
