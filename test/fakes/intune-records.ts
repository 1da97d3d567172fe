import { createHash } from 'node:crypto';
import type { CertificateRecord, NotificationState } from '../../lib/store/types.js';

/** A certificate record as the Intune enrollment path writes it (notification pending). */
export function intuneRecord(
  serial: string,
  transactionId: string,
  certificateRequest: string,
  options: { state?: NotificationState; attempts?: number; updatedAt?: string } = {},
): CertificateRecord {
  const sha1 = createHash('sha1').update(serial).digest('hex').toUpperCase();
  return {
    serialNumber: serial,
    thumbprintSha1: sha1,
    thumbprintSha256: createHash('sha256').update(serial).digest('hex').toUpperCase(),
    subject: 'CN=device-1234',
    sans: [],
    issuer: 'CN=azure-scep-ca Test CA,O=azure-scep-ca',
    notBefore: '2025-01-01T00:00:00.000Z',
    notAfter: '2026-01-01T00:00:00.000Z',
    endpoint: 'intune',
    authorization: 'intune',
    transactionId,
    transactionKey: `intune|${transactionId}|PKCSReq`,
    publicKeySha256: 'ab'.repeat(32),
    status: 'issued',
    notification: {
      state: options.state ?? 'pending',
      attempts: options.attempts ?? 0,
      updatedAt: options.updatedAt ?? '2025-01-01T00:00:00.000Z',
      certificateRequest,
    },
    der: 'MA==',
    createdAt: '2025-01-01T00:00:00.000Z',
  };
}
