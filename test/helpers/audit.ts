import { getApp, setApp } from '../../lib/app.js';
import type { AuditAccess, AuditViewer } from '../../lib/audit/access.js';
import type { AuditEvent } from '../../lib/audit/event.js';
import type { AuditQuery } from '../../lib/audit/store.js';
import type { Attempt } from '../../lib/audit/explain.js';
import { AppError } from '../../lib/errors.js';

/** Bearer tokens of test viewers: `Authorization: Bearer <token>`. */
export function tokenAccess(viewers: Readonly<Record<string, AuditViewer>>): AuditAccess {
  return {
    authenticate: (h) => {
      const viewer = viewers[/^Bearer (\S+)$/.exec(h ?? '')?.[1] ?? ''];
      return viewer ? Promise.resolve(viewer) : Promise.reject(new AppError('UNAUTHORIZED', 'unknown token'));
    },
  };
}

/** Give the running host's App an authenticator for the audit routes. */
export async function useAuditAccess(access: AuditAccess): Promise<void> {
  const app = await getApp();
  setApp(Promise.resolve({ ...app, auditAccess: access }));
}

export async function auditEvents(
  host: { readonly baseUrl: string },
  query: string,
  token = 'admin',
): Promise<AuditEvent[]> {
  const res = await fetch(`${host.baseUrl}/api/manage/audit?${query}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (res.status !== 200) throw new Error(`audit: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { value: AuditEvent[] }).value;
}

export async function explainAttempts(
  host: { readonly baseUrl: string },
  query: string,
  token = 'admin',
): Promise<Attempt[]> {
  const res = await fetch(`${host.baseUrl}/api/manage/explain?${query}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (res.status !== 200) throw new Error(`explain: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { attempts: Attempt[] }).attempts;
}

/** The events of the running host's App matching `query`, after its sink and outbox are written out. */
export async function storedEvents(query: AuditQuery): Promise<AuditEvent[]> {
  const app = await getApp();
  await app.audit.flush();
  await app.audit.drainOutbox();
  const out: AuditEvent[] = [];
  for await (const e of app.auditStore.stream(query)) out.push(e);
  return out;
}
