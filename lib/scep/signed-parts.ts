import { BerError, isContext, kids, oid, type Ber } from '../cms/ber.js';
import {
  algorithmIdentifier,
  explicitOf,
  octetStringValue,
  sequence,
  setMembers,
  smallInteger,
} from '../cms/strict.js';
import { badRequest } from '../errors.js';
import { OID } from './types.js';

/** The CMS parts of a pkiMessage, read strictly: SignedData, its SignerInfo, the signed attributes. */

/**
 * SignedData (RFC 5652 §5.1), every element tag-checked: version, digestAlgorithms,
 * encapContentInfo (id-data, [0] EXPLICIT OCTET STRING), [0] certificates, [1] crls (ignored),
 * exactly one SignerInfo.
 */
export function readSignedData(node: Ber) {
  const parts = sequence(node, 'SignedData');
  let i = 0;
  const version = smallInteger(parts[i++], 'SignedData.version');
  const digestOids = setMembers(parts[i++], 'SignedData.digestAlgorithms').map(
    (a) => algorithmIdentifier(a, 'SignedData.digestAlgorithms').oid,
  );
  const encap = sequence(parts[i++], 'EncapsulatedContentInfo');
  if (encap.length < 1 || encap.length > 2 || oid(encap[0] as Ber) !== OID.data)
    throw new BerError('EncapsulatedContentInfo: expected id-data');
  const content = encap[1]
    ? octetStringValue(explicitOf(encap[1], 0, 'eContent'), 'eContent')
    : new Uint8Array(0);
  let certificates: readonly Ber[] = [];
  const certs = parts[i];
  if (certs && isContext(certs, 0)) {
    certificates = kids(certs);
    i++;
  }
  const crls = parts[i];
  if (crls && isContext(crls, 1)) i++;
  const signerInfos = setMembers(parts[i++], 'SignedData.signerInfos');
  if (i !== parts.length) throw new BerError('SignedData: unexpected elements');
  if (signerInfos.length !== 1 || !signerInfos[0])
    throw badRequest('the SCEP message must have exactly one signer');
  return { version, digestOids, content, certificates, signerInfo: signerInfos[0] };
}

/** SignerInfo (RFC 5652 §5.3): version 1 with issuerAndSerialNumber, 3 with subjectKeyIdentifier. */
export type SignerInfoParts = ReturnType<typeof readSignerInfo>;

export function readSignerInfo(node: Ber) {
  const p = sequence(node, 'SignerInfo');
  const version = smallInteger(p[0], 'SignerInfo.version');
  const sid = p[1];
  if (!sid) throw new BerError('SignerInfo: missing sid');
  if (version === 1) {
    if (sequence(sid, 'SignerInfo.sid').length !== 2) throw new BerError('SignerInfo.sid: malformed');
  } else if (version !== 3 || !isContext(sid, 0) || sid.constructed) {
    throw new BerError('SignerInfo: version and sid do not agree');
  }
  const digestOid = algorithmIdentifier(p[2], 'SignerInfo.digestAlgorithm').oid;
  const signedAttrs = p[3];
  if (!signedAttrs || !isContext(signedAttrs, 0) || !signedAttrs.constructed)
    throw badRequest('the SCEP message has no signed attributes');
  const signatureAlgorithm = algorithmIdentifier(p[4], 'SignerInfo.signatureAlgorithm');
  const signature = octetStringValue(p[5], 'SignerInfo.signature');
  const unsigned = p[6];
  if (p.length > 7 || (unsigned && !isContext(unsigned, 1)))
    throw new BerError('SignerInfo: unexpected elements');
  return { version, sid, digestOid, signedAttrs, signatureAlgorithm, signature };
}

/**
 * The signed attributes by type, each with its value. The attributes read here are
 * single-valued, and a second instance of a type would leave which one counts to the reader
 * (RFC 5652 §11.1-11.2 for contentType and messageDigest; RFC 8894 §3.2.1 for SCEP's): a
 * repeated type, or one of these with other than one value, is refused.
 */
const SINGLE_VALUED: ReadonlySet<string> = new Set([
  OID.contentType,
  OID.messageDigest,
  OID.messageType,
  OID.transactionID,
  OID.senderNonce,
]);

export function signedAttributes(signedAttrs: Ber): Map<string, Ber> {
  const attrs = new Map<string, Ber>();
  for (const a of kids(signedAttrs)) {
    const [type, values] = sequence(a, 'Attribute');
    if (!type || !values) continue;
    const id = oid(type);
    const members = setMembers(values, 'Attribute.values');
    if (attrs.has(id)) throw badRequest(`the signed attribute ${id} appears more than once`);
    if (SINGLE_VALUED.has(id) && members.length !== 1)
      throw badRequest(`the signed attribute ${id} has ${members.length} values, not one`);
    if (members[0]) attrs.set(id, members[0]);
  }
  return attrs;
}
