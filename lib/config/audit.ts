import { z } from 'zod';
import { int, optionalString, section } from './parse.js';

/**
 * Audit trail settings (docs/audit.md). The Cosmos DB container's default TTL is the
 * retention; infra/ sets the same value on the container it creates.
 */
export interface AuditSettings {
  /** How long events are kept, days. */
  readonly retentionDays: number;
  /** Cosmos DB container of the audit trail (partition key /partition). */
  readonly container: string;
}

const schema = z.object({
  AppConfig__Audit__RetentionDays: int(400, 1, 3650),
  AppConfig__CosmosDb__AuditContainerName: optionalString.refine(
    (s) => s === undefined || (s.length <= 255 && !/[/\\?#]/.test(s)),
    'must not contain / \\ ? or #',
  ),
});

export const auditSection = section(schema, (r): AuditSettings => ({
  retentionDays: r.AppConfig__Audit__RetentionDays,
  // The name infra/cosmos-layout.json gives the container (lib/store/cosmos-schema.ts).
  container: r.AppConfig__CosmosDb__AuditContainerName ?? 'audit',
}));
