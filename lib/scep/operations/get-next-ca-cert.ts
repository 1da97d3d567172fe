import { certsOnly } from '../../cms/certs-only.js';
import { x509Time } from '../../cms/der.js';
import type { NextCaCertificate } from '../../ca/next.js';
import type { Responder } from '../../ra/responder.js';
import type { ScepResponse } from '../service.js';
import { attribute, buildSignedData } from '../signed-data.js';
import { MediaType, OID } from '../types.js';

/**
 * GetNextCACert (RFC 8894 §4.7.1): a SignedData `application/x-x509-next-ca-cert`, signed by the
 * current CA or, on an RA endpoint, the RA key, so that a client can check it with what
 * GetCACert gave it. The certificates field holds the new CA certificate and the chain above it
 * (not the signer's, which the client already has); the content is the same certificates as a
 * degenerate certs-only SignedData (§3.4), so that they are covered by the signature too.
 */
export async function getNextCACert(
  next: NextCaCertificate,
  responder: Pick<Responder, 'signer' | 'signerCertificate'>,
  now: Date,
): Promise<ScepResponse> {
  const certificates = [next.certificateDer, ...next.chainDer];
  const body = await buildSignedData({
    content: certsOnly(certificates),
    attributes: [attribute(OID.signingTime, x509Time(now))],
    signerCertificate: responder.signerCertificate,
    includeSigner: false,
    certificates,
    signer: responder.signer,
    hash: 'SHA-256',
  });
  return { status: 200, contentType: MediaType.nextCaCert, body };
}
