import { createHash, createPrivateKey, randomUUID, X509Certificate } from 'node:crypto';
import { SignJWT } from 'jose';
import { AppError } from '../errors.js';
import type { ClientCredential } from './tokens.js';

type AssertionCredential = Extract<ClientCredential, { kind: 'assertion' }>;

/**
 * Client assertions for the client credentials grant (RFC 7523; Microsoft identity platform
 * "certificate credentials"): a JWT with `aud` = the token endpoint, `iss` = `sub` = the
 * application id, a fresh `jti`, a short lifetime, and the certificate's SHA-1 thumbprint in
 * the `x5t` header, signed RS256 with the certificate's key.
 */

/**
 * From a PEM holding the private key and the certificate, as Key Vault returns a certificate
 * secret whose content type is `application/x-pem-file`.
 */
export function certificateCredential(
  pem: string,
  clientId: string,
  now: () => number = Date.now,
): AssertionCredential {
  const certPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (certPem === undefined) {
    throw new AppError('CONFIG_INVALID', 'the client certificate PEM holds no CERTIFICATE block');
  }
  let key: ReturnType<typeof createPrivateKey>;
  let x5t: string;
  try {
    key = createPrivateKey(pem);
    x5t = createHash('sha1').update(new X509Certificate(certPem).raw).digest('base64url');
  } catch (e) {
    throw new AppError('CONFIG_INVALID', 'the client certificate PEM cannot be read', { cause: e });
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new AppError('CONFIG_INVALID', 'the client certificate key must be RSA (RS256 client assertions)');
  }
  return {
    kind: 'assertion',
    getAssertion: (tokenEndpoint) => {
      const iat = Math.floor(now() / 1000);
      return new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', x5t })
        .setAudience(tokenEndpoint)
        .setIssuer(clientId)
        .setSubject(clientId)
        .setJti(randomUUID())
        .setIssuedAt(iat)
        .setNotBefore(iat)
        .setExpirationTime(iat + 600)
        .sign(key);
    },
  };
}

/**
 * A managed identity token used as a federated credential of the app registration
 * ("workload identity federation": the app trusts the identity's issuer and subject). No
 * secret to store or rotate. The audience is `api://AzureADTokenExchange` in the public cloud.
 */
export function managedIdentityCredential(
  managedIdentityClientId: string | undefined,
  audience = 'api://AzureADTokenExchange',
): ClientCredential {
  let credential: Promise<{ getToken(scope: string): Promise<{ token: string } | null> }> | undefined;
  return {
    kind: 'assertion',
    getAssertion: async () => {
      credential ??= import('@azure/identity').then(
        (m) =>
          new m.ManagedIdentityCredential(
            managedIdentityClientId === undefined ? {} : { clientId: managedIdentityClientId },
          ),
      );
      const token = await (await credential).getToken(`${audience}/.default`);
      if (!token) throw new Error('the managed identity returned no token');
      return token.token;
    },
  };
}
