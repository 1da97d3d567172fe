import { z } from 'zod';
import { int, optionalString, section } from './parse.js';

/**
 * Azure Key Vault CA key (SCEPman: AppConfig:KeyVaultConfig:*). With KeyVaultURL set, the CA key
 * is a non-exportable Key Vault key used only through `sign` and `decrypt`/`unwrapKey`, and the CA
 * certificate is the Key Vault certificate object `CertificateName` (created by `npm run ca --
 * init`, or `csr` + `import` for a subordinate CA). Without it the embedded default's local CA key
 * is used.
 *
 * The managed identity's client id is read from AZURE_CLIENT_ID, the variable @azure/identity
 * itself reads: one setting then serves every Azure SDK client (Key Vault, Cosmos DB, queues),
 * and DefaultAzureCredential on a developer machine picks up the same value.
 */
export type KeyVaultKeyType = 'RSA' | 'RSA-HSM';

export interface KeyVaultSettings {
  /** Vault URL, e.g. `https://contoso-scep.vault.azure.net/`; undefined = use the local CA key. */
  readonly url: string | undefined;
  /** Name of the Key Vault certificate object (and of its key). */
  readonly certificateName: string;
  /** RFC 4514 subject of a new root, or of the CSR for an enterprise root to sign. */
  readonly subject: string;
  readonly keySize: 2048 | 3072 | 4096;
  /** `RSA-HSM` needs a Premium vault (or Managed HSM); `RSA` is a software-protected key. */
  readonly keyType: KeyVaultKeyType;
  /** Validity of a new self-signed root, days. */
  readonly daysExpiresIn: number;
  /**
   * Certificates above a subordinate CA (PEM, nearest first), returned by GetCACert after the CA
   * certificate. Key Vault keeps the merged chain only in the certificate's secret, which the app
   * identity cannot (and need not) read; `npm run ca -- import` prints the value to set.
   */
  readonly chainPem: string | undefined;
  /**
   * The same for the next CA (`<CertificateName>-next`) when an external parent signed it:
   * GetNextCACert, and after its activation GetCACert, return it after the next CA certificate.
   * `npm run ca -- next-import` prints the value to set.
   */
  readonly nextChainPem: string | undefined;
  /** User-assigned managed identity client id (AZURE_CLIENT_ID); undefined = system-assigned. */
  readonly managedIdentityClientId: string | undefined;
}

export const DEFAULT_CA_CERTIFICATE_NAME = 'scep-ca';
export const DEFAULT_CA_SUBJECT = 'CN=azure-scep-ca Root CA, O=azure-scep-ca';

const KEY_TYPES: Record<string, KeyVaultKeyType> = { rsa: 'RSA', 'rsa-hsm': 'RSA-HSM' };
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Key Vault object names: 1-127 characters, letters, digits and dashes.
const OBJECT_NAME = /^[0-9a-zA-Z-]{1,127}$/;

function isVaultUrl(s: string): boolean {
  if (!URL.canParse(s)) return false;
  const u = new URL(s);
  // Plain http only for a vault on this machine (the local test vault); Azure is always https.
  const loopback = u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]';
  return u.protocol === 'https:' || (u.protocol === 'http:' && loopback);
}

const keySize = (n: number): KeyVaultSettings['keySize'] => (n === 2048 ? 2048 : n === 3072 ? 3072 : 4096);

const pemSetting = optionalString.refine(
  (s) => s === undefined || s.includes('-----BEGIN CERTIFICATE-----'),
  'expected PEM certificates (-----BEGIN CERTIFICATE-----)',
);

const schema = z.object({
  AppConfig__KeyVaultConfig__KeyVaultURL: optionalString.refine(
    (s) => s === undefined || isVaultUrl(s),
    'expected the vault URL, e.g. https://contoso-scep.vault.azure.net/',
  ),
  AppConfig__KeyVaultConfig__RootCertificateConfig__CertificateName: optionalString.refine(
    (s) => s === undefined || OBJECT_NAME.test(s),
    'expected 1-127 letters, digits or dashes (a Key Vault object name)',
  ),
  AppConfig__KeyVaultConfig__RootCertificateConfig__Subject: optionalString.refine(
    (s) => s === undefined || /^[A-Za-z][\w.-]*\s*=/.test(s),
    'expected a distinguished name such as "CN=Contoso SCEP CA, O=Contoso"',
  ),
  AppConfig__KeyVaultConfig__RootCertificateConfig__KeySize: int(4096, 2048, 4096).refine(
    (n) => n === 2048 || n === 3072 || n === 4096,
    'expected 2048, 3072 or 4096 (the RSA sizes Key Vault supports)',
  ),
  AppConfig__KeyVaultConfig__RootCertificateConfig__KeyType: optionalString.refine(
    (s) => s === undefined || s.toLowerCase() in KEY_TYPES,
    'expected RSA or RSA-HSM',
  ),
  AppConfig__KeyVaultConfig__RootCertificateConfig__DaysExpiresIn: int(3650, 1, 36500),
  AppConfig__KeyVaultConfig__RootCertificateConfig__ChainPem: pemSetting,
  AppConfig__KeyVaultConfig__RootCertificateConfig__NextChainPem: pemSetting,
  AZURE_CLIENT_ID: optionalString.refine(
    (s) => s === undefined || GUID.test(s),
    'expected a client id (GUID)',
  ),
});

export const keyVaultSection = section(schema, (r): KeyVaultSettings => ({
  url: r.AppConfig__KeyVaultConfig__KeyVaultURL,
  certificateName:
    r.AppConfig__KeyVaultConfig__RootCertificateConfig__CertificateName ?? DEFAULT_CA_CERTIFICATE_NAME,
  subject: r.AppConfig__KeyVaultConfig__RootCertificateConfig__Subject ?? DEFAULT_CA_SUBJECT,
  keySize: keySize(r.AppConfig__KeyVaultConfig__RootCertificateConfig__KeySize),
  keyType:
    KEY_TYPES[(r.AppConfig__KeyVaultConfig__RootCertificateConfig__KeyType ?? 'RSA-HSM').toLowerCase()] ??
    'RSA-HSM',
  daysExpiresIn: r.AppConfig__KeyVaultConfig__RootCertificateConfig__DaysExpiresIn,
  chainPem: r.AppConfig__KeyVaultConfig__RootCertificateConfig__ChainPem,
  nextChainPem: r.AppConfig__KeyVaultConfig__RootCertificateConfig__NextChainPem,
  managedIdentityClientId: r.AZURE_CLIENT_ID,
}));
