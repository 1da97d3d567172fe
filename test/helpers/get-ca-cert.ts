import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import { ContentInfo, SignedData } from '@peculiar/asn1-cms';
import { AsnConvert } from '@peculiar/asn1-schema';
import type { Certificate } from '@peculiar/asn1-x509';

/**
 * GetCACert (RFC 8894 §4.2.1) as a client reads it: one DER certificate
 * (`application/x-x509-ca-cert`), or the certificates of a degenerate certs-only SignedData
 * (`application/x-x509-ca-ra-cert`: RA certificate(s) and the CA).
 */
export async function getCaCertificates(scepUrl: string): Promise<X509Certificate[]> {
  const res = await fetch(`${scepUrl}?operation=GetCACert`);
  const body = Buffer.from(await res.arrayBuffer());
  if (res.headers.get('content-type') === 'application/x-x509-ca-cert') return [new X509Certificate(body)];
  const sd = AsnConvert.parse(AsnConvert.parse(body, ContentInfo).content, SignedData);
  return Array.from(sd.certificates ?? [], (c) => {
    return new X509Certificate(Buffer.from(AsnConvert.serialize(c.certificate as Certificate)));
  });
}
