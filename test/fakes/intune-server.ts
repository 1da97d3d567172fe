import { createHash, createPublicKey, randomUUID, X509Certificate } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { checkCsr, checkFields, type ScepAction, unwrap } from './intune-checks.js';
import { fakeRevocation, handleRevocationCall, type FakeRevocation } from './intune-revocation.js';

/**
 * A faithful fake of what an Intune third-party SCEP integration talks to (spec
 * intune-scep-api.md §10): the Entra ID token endpoint, Microsoft Graph discovery and the three
 * ScepActions, on 127.0.0.1 (random port). It checks what the real services would check (or
 * what the spec says a client must send), records every request, and answers scripted codes.
 *
 * Scripting: `script({ action?, transactionId?, challenge?, outcome, times? })`; the first
 * matching rule wins. Without a rule, validateRequest answers by challenge convention:
 * `fake:<Code>` → HTTP 200 `{code: <Code>}`, `fake:http-500`, `fake:http-500-text`,
 * `fake:http-401`, `fake:hang`; any other challenge → Success; none → ChallengePasswordMissing.
 * Contract violations are answered 400 and listed in `violations` (tests assert it is empty).
 */

export type FakeOutcome =
  | { readonly code: string; readonly errorDescription?: string }
  | { readonly status: number; readonly json?: boolean; readonly body?: string }
  | { readonly hang: true };

export interface FakeRule {
  readonly action?: ScepAction;
  readonly transactionId?: string;
  readonly challenge?: string;
  readonly outcome: FakeOutcome;
  /** How many calls the rule answers; unlimited when absent. */
  times?: number;
}

export interface RecordedCall {
  readonly action: ScepAction;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
  readonly fields: Record<string, unknown>;
  readonly challenge: string | undefined;
  readonly status: number;
  readonly code: string | undefined;
  /** The tenant of the caller's token. */
  readonly tenantId: string | undefined;
}

export type DiscoveryMode = 'ok' | 'lowercase-name' | 'missing-service' | 'no-value' | 'http-500' | 'hang';

export const INTUNE_DOUBLE_SLASH_SCOPE = 'https://api.manage.microsoft.com//.default';
const INTUNE_SINGLE_SLASH_SCOPE = 'https://api.manage.microsoft.com/.default';
const INTUNE_APP_ID = '0000000a-0000-0000-c000-000000000000';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface FakeIntune {
  /** `http://127.0.0.1:<port>/`: the authority host (token at `{url}{tenant}/oauth2/v2.0/token`). */
  readonly url: string;
  readonly graphBase: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The ScepRequestValidationFEService uri that discovery lists (no trailing slash). */
  serviceUri: string;
  /** The PkiConnectorFEService uri (revocation, §8). */
  readonly pkiConnectorUri: string;
  /** Intune's revocation requests and the results uploaded for them (the default tenant's). */
  readonly revocation: FakeRevocation;
  /**
   * A tenant's own revocation requests (Intune keeps one queue per tenant): the caller's token
   * decides which queue downloadRevocationRequests and uploadRevocationResults work on.
   */
  revocationFor(tenantId: string): FakeRevocation;
  readonly tokenRequests: { readonly scope: string; readonly assertion: boolean }[];
  readonly discoveryRequests: { readonly headers: IncomingHttpHeaders; readonly url: string }[];
  readonly calls: RecordedCall[];
  readonly violations: string[];
  discoveryMode: DiscoveryMode;
  /** Token endpoint failure, e.g. `{ status: 401, error: 'invalid_client', aadsts: 7000215 }`. */
  tokenFault: { readonly status: number; readonly error: string; readonly aadsts?: number } | undefined;
  tokenLifetimeSeconds: number;
  /** Without it the Intune token has no roles and the ScepActions answer 401 (spec §2). */
  scepRoleGranted: boolean;
  /** PEM certificate registered on the app, for client assertions. */
  clientCertificatePem: string | undefined;
  /** Notifications must follow a validateRequest of the same transaction with the same CSR. */
  requireValidatedTransaction: boolean;
  script(rule: FakeRule): void;
  /**
   * Another tenant on the same Entra ID / Intune (its own app registration and secret), as one
   * CA serving several Intune tenants sees it. Its tokens carry its `tid`.
   */
  addTenant(): { readonly tenantId: string; readonly clientId: string; readonly clientSecret: string };
  /**
   * A challenge as Intune puts it into a device's SCEP profile: encrypted for `tenantId`, so
   * only that tenant's validateRequest accepts it; any other tenant answers
   * ChallengeDecryptionError.
   */
  challengeFor(tenantId: string): string;
  /** Tokens issued so far stop working (Intune answers 401). */
  revokeTokens(): void;
  /** Options for IntuneClient pointing at this fake (secret credential). */
  clientOptions(): {
    tenantId: string;
    clientId: string;
    credential: { kind: 'secret'; secret: string };
    authority: string;
    graphBase: string;
    providerNameAndVersion: string;
  };
  close(): Promise<void>;
}

export async function startFakeIntune(): Promise<FakeIntune> {
  const tokens = new Map<string, 'graph' | 'intune'>();
  const tokenTenant = new Map<string, string>();
  const tenants = new Map<string, { clientId: string; clientSecret: string }>();
  const requestIds = new Set<string>();
  const validated = new Map<string, string>();
  const rules: FakeRule[] = [];
  const defaultRevocation = fakeRevocation();
  const revocationQueues = new Map<string, FakeRevocation>();
  const self: { fake?: FakeIntune } = {};

  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      if (!self.fake) return void res.writeHead(503).end();
      handle(self.fake, req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/`;
  const tenantId = '11111111-2222-3333-4444-555555555555';

  function issueToken(kind: 'graph' | 'intune', tid: string): string {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const roles =
      kind === 'graph'
        ? ['Application.Read.All']
        : self.fake?.scepRoleGranted
          ? ['scep_challenge_provider']
          : [];
    const aud = kind === 'graph' ? 'https://graph.microsoft.com' : 'https://api.manage.microsoft.com/';
    const token = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ aud, roles, tid, jti: randomUUID() })}.sig`;
    tokens.set(token, kind);
    tokenTenant.set(token, tid);
    return token;
  }

  function bearer(req: IncomingMessage): 'graph' | 'intune' | undefined {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    return m?.[1] === undefined ? undefined : tokens.get(m[1]);
  }

  function callerTenant(req: IncomingMessage): string | undefined {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    return m?.[1] === undefined ? undefined : tokenTenant.get(m[1]);
  }

  function handle(f: FakeIntune, req: IncomingMessage, body: string, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', url).pathname;
    const tm = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
    if (req.method === 'POST' && tm?.[1] !== undefined && (tm[1] === tenantId || tenants.has(tm[1])))
      return void handleToken(f, tm[1], req, body, res);
    if (path === `/graph/v1.0/servicePrincipals/appId=${INTUNE_APP_ID}/endpoints`) {
      handleDiscovery(f, req, res);
      return;
    }
    const pkiPath = new URL(f.pkiConnectorUri).pathname;
    const rm = /^\/CertificateAuthorityRequests\/([A-Za-z]+)$/.exec(path.slice(pkiPath.length));
    if (path.startsWith(pkiPath) && rm?.[1] !== undefined) {
      if (bearer(req) !== 'intune' || !f.scepRoleGranted) {
        sendJson(res, 401, { error: 'unauthorized' });
        return;
      }
      const queue = f.revocationFor(callerTenant(req) ?? tenantId);
      handleRevocationCall(queue, rm[1], req, body, f.violations, (status, json) => {
        sendJson(res, status, json);
      });
      return;
    }
    const servicePath = new URL(f.serviceUri).pathname;
    const m = /^\/ScepActions\/([A-Za-z]+)$/.exec(path.slice(servicePath.length));
    if (path.startsWith(servicePath) && m?.[1] !== undefined) {
      handleAction(f, m[1], req, body, res);
      return;
    }
    sendJson(res, 404, { error: { code: 'NotFound', message: path } });
  }

  async function handleToken(
    f: FakeIntune,
    tid: string,
    req: IncomingMessage,
    body: string,
    res: ServerResponse,
  ): Promise<void> {
    const form = new URLSearchParams(body);
    const scope = form.get('scope') ?? '';
    const assertion = form.get('client_assertion');
    f.tokenRequests.push({ scope, assertion: assertion !== null });
    const error = (status: number, code: string, aadsts: number, description: string) => {
      sendJson(res, status, {
        error: code,
        error_description: `AADSTS${aadsts}: ${description}`,
        error_codes: [aadsts],
      });
    };
    if (f.tokenFault) {
      error(f.tokenFault.status, f.tokenFault.error, f.tokenFault.aadsts ?? 0, 'scripted');
      return;
    }
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      f.violations.push('token request is not form-encoded');
    }
    if (form.get('grant_type') !== 'client_credentials') {
      error(400, 'unsupported_grant_type', 70003, 'grant');
      return;
    }
    const app = tid === tenantId ? { clientId: f.clientId, clientSecret: f.clientSecret } : tenants.get(tid);
    if (form.get('client_id') !== app?.clientId) {
      error(400, 'unauthorized_client', 700016, 'unknown app');
      return;
    }
    if (assertion !== null) {
      if (!(await assertionValid(f, assertion))) {
        error(401, 'invalid_client', 700027, 'bad assertion');
        return;
      }
    } else if (form.get('client_secret') !== app.clientSecret) {
      error(401, 'invalid_client', 7000215, 'Invalid client secret provided.');
      return;
    }
    let kind: 'graph' | 'intune';
    if (scope === `${f.graphBase}.default` || scope === 'https://graph.microsoft.com/.default')
      kind = 'graph';
    else if (scope === INTUNE_DOUBLE_SLASH_SCOPE || scope === INTUNE_SINGLE_SLASH_SCOPE) kind = 'intune';
    else {
      error(400, 'invalid_scope', 70011, `scope ${scope} is not valid`);
      return;
    }
    sendJson(res, 200, {
      token_type: 'Bearer',
      expires_in: f.tokenLifetimeSeconds,
      access_token: issueToken(kind, tid),
    });
  }

  async function assertionValid(f: FakeIntune, jwt: string): Promise<boolean> {
    if (f.clientCertificatePem === undefined) return false;
    const cert = new X509Certificate(f.clientCertificatePem);
    try {
      const header = decodeProtectedHeader(jwt);
      const x5t = createHash('sha1').update(cert.raw).digest('base64url');
      if (header.x5t !== x5t) return false;
      const { payload } = await jwtVerify(
        jwt,
        createPublicKey(cert.publicKey.export({ type: 'spki', format: 'pem' })),
        {
          audience: `${url}${tenantId}/oauth2/v2.0/token`,
          issuer: f.clientId,
          subject: f.clientId,
        },
      );
      return typeof payload.jti === 'string';
    } catch {
      return false;
    }
  }

  function handleDiscovery(f: FakeIntune, req: IncomingMessage, res: ServerResponse): void {
    f.discoveryRequests.push({ headers: req.headers, url: req.url ?? '' });
    if (req.method !== 'GET') f.violations.push(`discovery with ${req.method ?? '?'}`);
    if (new URL(req.url ?? '/', url).search !== '') f.violations.push('discovery with a query string');
    if (!UUID.test(String(req.headers['client-request-id'])))
      f.violations.push('discovery without client-request-id');
    if (bearer(req) !== 'graph') {
      sendJson(res, 401, { error: { code: 'InvalidAuthenticationToken' } });
      return;
    }
    if (f.discoveryMode === 'hang') return;
    if (f.discoveryMode === 'http-500') {
      sendJson(res, 500, { error: { code: 'generalException' } });
      return;
    }
    if (f.discoveryMode === 'no-value') {
      sendJson(res, 200, { '@odata.context': 'x' });
      return;
    }
    const entry = (name: string, uri: string) => ({
      id: randomUUID(),
      deletedDateTime: null,
      capability: name,
      providerId: INTUNE_APP_ID,
      providerName: f.discoveryMode === 'lowercase-name' ? name.toLowerCase() : name,
      providerResourceId: 'https://api.manage.microsoft.com/',
      uri,
    });
    const value = [entry('PkiConnectorFEService', f.pkiConnectorUri)];
    if (f.discoveryMode !== 'missing-service')
      value.unshift(entry('ScepRequestValidationFEService', f.serviceUri));
    sendJson(res, 200, {
      '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#servicePrincipals('appId%3D${INTUNE_APP_ID}')/endpoints`,
      value,
    });
  }

  function handleAction(
    f: FakeIntune,
    name: string,
    req: IncomingMessage,
    raw: string,
    res: ServerResponse,
  ): void {
    const problems: string[] = [];
    const action = (['validateRequest', 'successNotification', 'failureNotification'] as const).find(
      (a) => a === name,
    );
    if (!action) {
      sendJson(res, 404, { error: { code: 'NotFound' } });
      return;
    }
    if (req.method !== 'POST') problems.push(`method ${req.method ?? '?'}`);
    if (new URL(req.url ?? '/', url).search !== '') problems.push('query string present');
    if (req.headers['api-version'] !== '2018-02-20') problems.push('api-version header must be 2018-02-20');
    const rid = String(req.headers['client-request-id']);
    if (!UUID.test(rid)) problems.push('client-request-id must be a UUID');
    else if (requestIds.has(rid)) problems.push('client-request-id reused (must be fresh per call)');
    requestIds.add(rid);
    if (!(req.headers['content-type'] ?? '').startsWith('application/json'))
      problems.push('content-type must be JSON');
    const record = (
      status: number,
      code: string | undefined,
      fields: Record<string, unknown>,
      challenge?: string,
    ) =>
      f.calls.push({
        action,
        headers: req.headers,
        body: parsed,
        fields,
        challenge,
        status,
        code,
        tenantId: callerTenant(req),
      });
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      problems.push('body is not JSON');
    }
    if (bearer(req) !== 'intune' || !f.scepRoleGranted) {
      record(401, undefined, {});
      sendJson(res, 401, {
        code: 'Unauthorized',
        errorDescription: 'token lacks scep_challenge_provider',
      });
      return;
    }
    const o = unwrap(action, parsed, problems) ?? {};
    checkFields(action, o, problems);
    const csr = checkCsr(o.certificateRequest, problems);
    const tid = typeof o.transactionId === 'string' ? o.transactionId : '';
    if (rid === tid) problems.push('client-request-id must not be the transactionId');
    if (action !== 'validateRequest' && f.requireValidatedTransaction) {
      const first = validated.get(tid);
      if (first === undefined) problems.push('notification for a transaction never validated');
      else if (first !== o.certificateRequest)
        problems.push("certificateRequest differs from validateRequest's");
    }
    if (problems.length > 0) {
      f.violations.push(...problems.map((p) => `${action}: ${p}`));
      record(400, undefined, o, csr.challenge);
      sendJson(res, 400, { code: 'BadRequest', errorDescription: problems.join('; ') });
      return;
    }
    if (action === 'validateRequest' && !validated.has(tid)) validated.set(tid, String(o.certificateRequest));
    const outcome = pick(action, tid, csr, callerTenant(req));
    const status = 'code' in outcome ? 200 : 'status' in outcome ? outcome.status : 0;
    record(status, 'code' in outcome ? outcome.code : undefined, o, csr.challenge);
    if ('hang' in outcome) return; // the client's time box must fire
    if ('code' in outcome) {
      sendJson(res, 200, { code: outcome.code, errorDescription: outcome.errorDescription ?? '' });
      return;
    }
    if (outcome.json === false) {
      res
        .writeHead(outcome.status, { 'content-type': 'text/html' })
        .end(outcome.body ?? '<html>Service Unavailable</html>');
      return;
    }
    const body =
      outcome.body ?? JSON.stringify({ code: 'InternalServerError', errorDescription: 'scripted failure' });
    res.writeHead(outcome.status, { 'content-type': 'application/json; charset=utf-8' }).end(body);
  }

  function pick(
    action: ScepAction,
    transactionId: string,
    csr: { ok: boolean; challenge: string | undefined },
    caller: string | undefined,
  ): FakeOutcome {
    const i = rules.findIndex(
      (r) =>
        (r.action === undefined || r.action === action) &&
        (r.transactionId === undefined || r.transactionId === transactionId) &&
        (r.challenge === undefined || r.challenge === csr.challenge),
    );
    const rule = rules[i];
    if (rule) {
      if (rule.times !== undefined && --rule.times <= 0) rules.splice(i, 1);
      return rule.outcome;
    }
    if (action !== 'validateRequest') return { code: 'Success' };
    if (!csr.ok)
      return { code: 'CertificateRequestDecodingFailed', errorDescription: 'CSR cannot be decoded' };
    if (csr.challenge === undefined)
      return { code: 'ChallengePasswordMissing', errorDescription: 'no challenge' };
    const bound = /^tenant:([^:]+):/.exec(csr.challenge)?.[1];
    if (bound !== undefined && bound !== caller)
      return {
        code: 'ChallengeDecryptionError',
        errorDescription: 'the challenge was not issued for this tenant',
      };
    const conv = /^fake:(.+)$/.exec(csr.challenge)?.[1];
    if (conv === 'hang') return { hang: true };
    if (conv === 'http-500') return { status: 500 };
    if (conv === 'http-500-text') return { status: 500, json: false };
    if (conv === 'http-401') return { status: 401 };
    if (conv !== undefined) return { code: conv, errorDescription: `scripted ${conv}` };
    return { code: 'Success' };
  }

  const fake: FakeIntune = {
    url,
    graphBase: `${url}graph/`,
    tenantId,
    clientId: '66666666-7777-8888-9999-000000000000',
    clientSecret: `secret-${randomUUID()}`,
    serviceUri: `${url}RACerts/ScepRequestValidationFEService/Gateway/StatelessScepRequestValidationService`,
    pkiConnectorUri: `${url}RACerts/PkiConnectorFEService/Gateway/StatelessPkiConnectorService`,
    revocation: defaultRevocation,
    revocationFor: (tid) => {
      if (tid.toLowerCase() === tenantId) return defaultRevocation;
      const queue = revocationQueues.get(tid.toLowerCase()) ?? fakeRevocation();
      revocationQueues.set(tid.toLowerCase(), queue);
      return queue;
    },
    tokenRequests: [],
    discoveryRequests: [],
    calls: [],
    violations: [],
    discoveryMode: 'ok',
    tokenFault: undefined,
    tokenLifetimeSeconds: 3599,
    scepRoleGranted: true,
    clientCertificatePem: undefined,
    requireValidatedTransaction: true,
    script: (rule) => void rules.push({ ...rule }),
    addTenant: () => {
      const t = { tenantId: randomUUID(), clientId: randomUUID(), clientSecret: `secret-${randomUUID()}` };
      tenants.set(t.tenantId, { clientId: t.clientId, clientSecret: t.clientSecret });
      return t;
    },
    challengeFor: (tid) => `tenant:${tid}:${randomUUID()}`,
    revokeTokens: () => {
      tokens.clear();
    },
    clientOptions() {
      return {
        tenantId,
        clientId: this.clientId,
        credential: { kind: 'secret', secret: this.clientSecret },
        authority: url,
        graphBase: this.graphBase,
        providerNameAndVersion: 'azure-scep-ca-test/1.0',
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
  self.fake = fake;
  return fake;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', () => {
      resolve('');
    });
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}
