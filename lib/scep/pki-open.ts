import type { ComparedValue } from '../audit/event.js';
import type { ReasonCode } from '../audit/reasons.js';
import type { ContentCipher } from '../cms/ciphers.js';
import { describeError, isAppError } from '../errors.js';
import { CaCannotDecrypt, type Responder } from '../ra/responder.js';
import type { ScepEndpoint } from './endpoint.js';
import { EnvelopeContentError, EnvelopeError, openEnvelopeFor } from './envelope.js';
import type { PkiMessage } from './message.js';
import { UNREADABLE, type Refuse, type Reply } from './pki-reply.js';
import { FailInfo } from './types.js';

/** Why the pkcsPKIEnvelope could not be opened: the refusal it becomes. */
export interface OpenFailure {
  readonly reason: ReasonCode;
  readonly error: string;
  readonly failInfo: FailInfo;
  readonly detail?: string;
  readonly compared?: readonly ComparedValue[];
}

/** Who signs and decrypts for `endpoint`: its RA, or the CA (lib/ra/responder.ts). */
export function responderFor(endpoint: ScepEndpoint, caResponder: () => Responder): Responder {
  return endpoint.responder ?? caResponder();
}

/** The request's pkcsPKIEnvelope opened by the endpoint's responder, or why it was not. */
export async function openRequest(
  endpoint: ScepEndpoint,
  msg: PkiMessage,
  caResponder: () => Responder,
): Promise<{ content: Uint8Array; cipher: ContentCipher } | OpenFailure> {
  try {
    return await openEnvelopeFor(msg.envelope, responderFor(endpoint, caResponder).recipients);
  } catch (e) {
    return openFailure(e);
  }
}

export function refuseOpen(refuse: Refuse, o: OpenFailure): Reply {
  return refuse(o.reason, o.error, o.failInfo, o.detail, o.compared);
}

function openFailure(e: unknown): OpenFailure {
  if (e instanceof CaCannotDecrypt) {
    return { reason: 'ca-cannot-decrypt', error: e.message, failInfo: FailInfo.badAlg };
  }
  // The client gets the one answer; the audit event keeps what the envelope named.
  if (e instanceof EnvelopeContentError) {
    const recipient = e.reason === 'envelope-recipient-mismatch';
    return {
      ...UNREADABLE,
      ...(recipient ? { reason: e.reason } : {}),
      detail: e.message,
      compared: e.compared,
    };
  }
  if (e instanceof EnvelopeError) {
    return {
      reason: e.reason,
      error: e.message,
      failInfo: FailInfo.badMessageCheck,
      compared: e.compared,
    };
  }
  if (isAppError(e) && e.code === 'DEPENDENCY_UNAVAILABLE')
    return {
      reason: 'ca-key-unavailable',
      error: 'the CA key is unavailable; retry later',
      failInfo: FailInfo.badRequest,
      detail: describeError(e),
    };
  if (isAppError(e) && e.code === 'BAD_REQUEST')
    return { reason: 'envelope-invalid', error: e.message, failInfo: FailInfo.badRequest };
  // Unexpected: the cause goes to the audit log, not to the client.
  return {
    reason: 'envelope-invalid',
    error: 'the pkcsPKIEnvelope cannot be opened',
    failInfo: FailInfo.badMessageCheck,
    detail: describeError(e),
  };
}
