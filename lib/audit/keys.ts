import { canonicalSerialHex, certView, sha256Hex } from '../x509/cert-view.js';
import { nameDerToString } from '../x509/names.js';
import type { AuditInput } from './event.js';
import type { AuditLog } from './sink.js';

/** Whose key: the CA's, an endpoint's RA (RFC 8894 §2.2), an OCSP delegated responder (RFC 6960 §4.2.2.2). */
export type KeyRole = 'ca' | 'ra' | 'ocsp-responder';

/**
 * What happened to it: `created` (a new key and certificate), `loaded` (an existing one taken
 * into use at start), `issued` (a certificate for a fresh key), `renewed` / `rotated` (a new
 * certificate replaces `previous`, automatically or on an administrator's request),
 * `rollover` (a next CA certificate takes over from `previous`).
 */
export type KeyAction = 'created' | 'loaded' | 'issued' | 'renewed' | 'rotated' | 'rollover';

export interface KeyLifecycle {
  readonly role: KeyRole;
  readonly action: KeyAction;
  /** The certificate of the key (DER): its SHA-256 fingerprint, serial, subject and expiry are recorded. */
  readonly certificateDer: Uint8Array;
  /** Where the key is: a Key Vault key id or a local file; never the key itself. */
  readonly key?: string | undefined;
  /** SHA-256 fingerprint (hex) of the certificate this one replaces. */
  readonly previous?: string | undefined;
  /** The endpoint an RA key belongs to. */
  readonly endpoint?: string | undefined;
  readonly organization?: string | undefined;
  /** Who caused it, when an administrator did (`entra:<oid>`, `admin-key`); else the CA itself. */
  readonly actor?: string | undefined;
}

/**
 * A key lifecycle event (kind `key`, reason `key-lifecycle`): the certificate's SHA-256
 * fingerprint, serial, subject and validity, the key's location, and what it replaced.
 */
export function keyEvent(k: KeyLifecycle): AuditInput {
  const c = certView(k.certificateDer);
  const sha256 = sha256Hex(k.certificateDer).toUpperCase();
  const subject = nameDerToString(c.subject);
  const certificate = {
    thumbprintSha256: sha256,
    serialNumber: canonicalSerialHex(c.serial),
    subject,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    ...(k.key === undefined ? {} : { key: k.key }),
  };
  const what =
    k.role === 'ca' ? 'CA' : k.role === 'ra' ? `RA of endpoint '${k.endpoint ?? '?'}'` : 'OCSP responder';
  return {
    kind: 'key',
    operation: `${k.role}.${k.action}`,
    actor: k.actor ?? 'azure-scep-ca',
    endpoint: k.endpoint,
    organization: k.organization,
    subject,
    serialNumber: certificate.serialNumber,
    outcome: k.action === 'loaded' ? 'loaded' : 'changed',
    reason: 'key-lifecycle',
    message: `${what} key ${k.action}: certificate ${subject}, SHA-256 ${sha256}, valid until ${certificate.notAfter}${k.previous === undefined ? '' : `, replaces ${k.previous.toUpperCase()}`}`,
    changes: [
      {
        field: 'certificate',
        before: k.previous === undefined ? undefined : { thumbprintSha256: k.previous.toUpperCase() },
        after: certificate,
      },
    ],
  };
}

/**
 * Record a key lifecycle event; never throws (a certificate that cannot be read is logged by
 * the sink as an event that could not be built). The one call for CA, RA and OCSP key changes,
 * including a CA rollover: `recordKeyEvent(audit, { role: 'ca', action: 'rollover', certificateDer, previous })`.
 */
export function recordKeyEvent(audit: AuditLog, k: KeyLifecycle): void {
  let input: AuditInput;
  try {
    input = keyEvent(k);
  } catch {
    input = {
      kind: 'key',
      operation: `${k.role}.${k.action}`,
      actor: k.actor ?? 'azure-scep-ca',
      endpoint: k.endpoint,
      outcome: k.action === 'loaded' ? 'loaded' : 'changed',
      reason: 'key-lifecycle',
      message: `${k.role} key ${k.action}: the certificate could not be read`,
    };
  }
  audit.record(input);
}
