/**
 * The reason catalogue: every decision the CA records names one of these codes. Each code has
 * the check it belongs to, what it means, and what fixes it. The table in docs/troubleshooting.md is generated
 * from this file (scripts/reasons-table.ts) and a test keeps the two equal; another test fails
 * when a refusal anywhere in lib/ uses a code that is not here.
 *
 * Codes are stable: logs, exported audit files and dashboards of operators depend on them.
 * Add codes; never rename or reuse one.
 */
export type ReasonCheck =
  | 'decision'
  | 'message'
  | 'envelope'
  | 'csr'
  | 'key'
  | 'subject'
  | 'challenge'
  | 'account'
  | 'endpoint'
  | 'intune'
  | 'renewal'
  | 'client-certificate'
  | 'transaction'
  | 'availability'
  | 'revocation'
  | 'management';

export interface ReasonEntry {
  readonly check: ReasonCheck;
  readonly meaning: string;
  readonly fix: string;
}

type Catalogue = Record<string, ReasonEntry>;
const entry = (check: ReasonCheck, meaning: string, fix: string): ReasonEntry => ({ check, meaning, fix });

const DECISIONS = {
  issued: entry('decision', 'A certificate was issued.', 'Nothing to fix.'),
  renewed: entry(
    'decision',
    'A certificate was renewed on the strength of the certificate that signed the request.',
    'Nothing to fix.',
  ),
  replayed: entry(
    'decision',
    'A retried request of a completed transaction got the same certificate again.',
    'Nothing to fix: clients re-send a transaction when a reply was lost.',
  ),
  pending: entry(
    'decision',
    'The request waits for a decision (manual approval or an outside service).',
    'Wait; the client polls with CertPoll.',
  ),
  revoked: entry('decision', 'A certificate was revoked.', 'Nothing to fix.'),
  'management-change': entry(
    'management',
    'An administrator changed configuration (endpoint, account, scope or CA state).',
    'Nothing to fix; the event lists the fields that changed.',
  ),
  'intune-notified': entry(
    'intune',
    'Intune accepted the success or failure notification for an issued certificate.',
    'Nothing to fix.',
  ),
  'key-lifecycle': entry(
    'availability',
    'A CA, RA or OCSP key was created, loaded or rotated.',
    'Nothing to fix.',
  ),
} as const satisfies Catalogue;

const MESSAGE = {
  'message-unparseable': entry(
    'message',
    'The body is not a SCEP pkiMessage (CMS SignedData), or a required attribute is missing.',
    'Check that the client posts the binary pkiMessage (or base64 in `message=` for GET) to /scep/<endpoint>?operation=PKIOperation; the event shows the content type and what the parser saw.',
  ),
  'message-signature-invalid': entry(
    'message',
    'The pkiMessage signature does not verify with the signer certificate it carries.',
    'The message was altered in transit, or the client signs with another key than the certificate it sends; check proxies that rewrite bodies.',
  ),
  'message-type-unsupported': entry(
    'message',
    'The messageType is not one this CA answers (PKCSReq, RenewalReq, CertPoll, GetCert).',
    'Configure the client for PKCSReq/RenewalReq enrollment.',
  ),
  'crl-not-available': entry(
    'message',
    'The client asked for a CRL over SCEP (GetCRL), which this CA does not serve.',
    'Use the CRL distribution point URL from the certificate instead.',
  ),
  'signer-key-not-rsa': entry(
    'message',
    'The request signer certificate has no RSA key, so the reply cannot be encrypted to it.',
    'Let the client sign the request with an RSA key (SCEP encrypts the reply with RSA key transport).',
  ),
  'getcert-invalid': entry(
    'message',
    'A GetCert request does not carry an IssuerAndSerialNumber.',
    'Fix the client: GetCert must name the issuer and serial of the wanted certificate.',
  ),
  internal: entry(
    'availability',
    'An unexpected error occurred after the message was parsed.',
    'Retry; if it repeats, send the event id and time to the CA operator.',
  ),
  'signer-certificate-invalid': entry(
    'message',
    'The pkiMessage is signed by a certificate that is neither self-signed nor issued by this CA.',
    'Sign first enrollments with a self-signed certificate, and renewals with the certificate this CA issued.',
  ),
} as const satisfies Catalogue;

const ENVELOPE = {
  'envelope-invalid': entry(
    'envelope',
    'The pkcsPKIEnvelope could not be decrypted with the CA key.',
    'Download the CA certificate again (GetCACert) and re-create the MDM profile; the envelope was encrypted with a key this CA does not hold.',
  ),
  'envelope-recipient-mismatch': entry(
    'envelope',
    'The request is encrypted to a certificate that is not this CA’s (the commonest MDM misconfiguration: a profile still holding an old or another CA certificate).',
    'Replace the CA/RA certificate in the MDM profile with the one GetCACert returns now; the event lists the recipient the client used.',
  ),
  'ca-cannot-decrypt': entry(
    'envelope',
    'The request is encrypted to the CA certificate of an RA-mode endpoint, and the CA key cannot decrypt (an EC CA key).',
    'Point the client at the RA certificate GetCACert returns for this endpoint (most clients pick it themselves), or turn RA mode off for the endpoint only with an RSA CA key.',
  ),
  'cipher-not-supported': entry(
    'envelope',
    'The request uses a content cipher this CA does not accept.',
    'Configure the client for AES-128/256-CBC or 3DES (GetCACaps lists them). Single DES is read (micromdm scepclient sends it); RC2 and other ciphers are refused.',
  ),
  'ca-key-unavailable': entry(
    'availability',
    'The CA key (Key Vault or local) could not be used to open the request.',
    'Check Key Vault availability and the managed identity’s key permissions (decrypt, sign); the device retries.',
  ),
  'envelope-content-unreadable': entry(
    'envelope',
    'The pkcsPKIEnvelope was opened but its content does not decrypt or is not the expected structure (a CSR, or an IssuerAndSerialNumber for GetCert). The client gets one answer for all of these, so a wrong key is not told apart from damaged content (RFC 3218 §2.3.2).',
    'Download the CA certificate again (GetCACert) and re-create the MDM profile; the event lists the recipient or content the server saw.',
  ),
} as const satisfies Catalogue;

const CSR = {
  'csr-invalid': entry(
    'csr',
    'The certificate request inside the envelope is not a PKCS#10 CSR.',
    'Fix the client’s CSR generation; the event shows what the parser saw.',
  ),
  'csr-signature-invalid': entry(
    'csr',
    'The CSR signature does not verify with its own public key (no proof of possession).',
    'The client must sign the CSR with the private key of the requested certificate.',
  ),
  'key-too-small': entry(
    'key',
    'The CSR’s RSA key is shorter than the endpoint allows.',
    'Raise the key size in the device profile (at least the minimum named in the event, usually 2048).',
  ),
  'key-too-large': entry(
    'key',
    'The CSR’s RSA key is longer than the endpoint allows.',
    'Lower the key size in the device profile to the maximum named in the event.',
  ),
  'key-exponent-invalid': entry(
    'key',
    'The CSR’s RSA public exponent is even or below 3 (RFC 8017 §3.1): such a key proves nothing.',
    'Generate the key with a standard public exponent (65537).',
  ),
  'curve-not-allowed': entry(
    'key',
    'The CSR’s EC key uses a curve the endpoint does not allow.',
    'Use one of the curves the event lists (P-256, P-384 by default).',
  ),
  'key-type-not-allowed': entry(
    'key',
    'The CSR’s key algorithm is neither RSA nor an allowed EC curve.',
    'Request an RSA or ECDSA key in the device profile.',
  ),
  'subject-missing': entry(
    'subject',
    'The CSR has neither a subject nor a subjectAltName.',
    'Set a subject name or SAN in the device profile.',
  ),
  'subject-rdn-required': entry(
    'subject',
    'The CSR subject lacks an attribute (RDN) the endpoint’s profile requires.',
    'Add the attribute named in the event to the subject in the device profile.',
  ),
  'subject-rdn-forbidden': entry(
    'subject',
    'The CSR subject carries an attribute (RDN) the endpoint’s profile forbids.',
    'Remove the attribute named in the event from the subject in the device profile.',
  ),
  'subject-cn-pattern': entry(
    'subject',
    'The CSR common name does not match the pattern of the endpoint’s profile.',
    'Change the CN in the device profile to match the pattern shown in the event.',
  ),
  'san-type-not-allowed': entry(
    'subject',
    'The CSR has a subjectAltName type the endpoint’s profile does not allow.',
    'Remove SANs of that type (named in the event) from the device profile.',
  ),
  'san-pattern': entry(
    'subject',
    'A subjectAltName value does not match the pattern of the endpoint’s profile.',
    'Change the SAN named in the event to match the pattern.',
  ),
} as const satisfies Catalogue;

const CREDENTIALS = {
  'challenge-missing': entry(
    'challenge',
    'The CSR carries no challengePassword, and the endpoint requires one.',
    'Put the endpoint’s challenge into the device profile (SCEP challenge / challengePassword).',
  ),
  'challenge-mismatch': entry(
    'challenge',
    'The challengePassword does not match the endpoint’s (the value is never recorded).',
    'Copy the current challenge of the endpoint or account into the device profile again.',
  ),
  'challenge-malformed': entry(
    'challenge',
    'The challengePassword is not a challenge of this CA (wrong format for an account challenge).',
    'Copy the challenge exactly as the management console showed it (account id and secret).',
  ),
  'account-unknown': entry(
    'account',
    'No account of this endpoint has the account id the challenge names.',
    'The account was deleted or belongs to another endpoint: create a new challenge for this endpoint.',
  ),
  'account-secret-mismatch': entry(
    'challenge',
    'The challenge names an account of this endpoint, but its secret part is wrong (the value is never recorded).',
    'Copy the account’s current challenge into the device profile again, or issue a new one.',
  ),
  'account-expired': entry(
    'account',
    'The account (or one-time challenge) has expired.',
    'Issue a new challenge for the device, or extend the account’s expiry.',
  ),
  'account-used-up': entry(
    'account',
    'The account (or one-time challenge) has reached its maximum number of uses.',
    'Issue a new one-time challenge; a challenge of maxUses 1 serves exactly one enrollment.',
  ),
  'account-busy': entry(
    'account',
    'The account was used by another enrollment at the same moment.',
    'Retry; the client does so on its own.',
  ),
  'account-disabled': entry(
    'account',
    'The account whose challenge matched is disabled.',
    'Enable the account in the management console, or use another account’s challenge.',
  ),
  'endpoint-disabled': entry(
    'endpoint',
    'The SCEP endpoint exists but is disabled.',
    'Enable the endpoint, or point the profile at an enabled one.',
  ),
  'endpoint-unknown': entry(
    'endpoint',
    'There is no SCEP endpoint of that name.',
    'Check the URL in the device profile (/scep/<endpoint>); names are listed in the management console.',
  ),
  'authorization-unavailable': entry(
    'availability',
    'The challenge could not be checked now (its store or service did not answer).',
    'Nothing on the device: the device retries; check the health of the store or Intune.',
  ),
} as const satisfies Catalogue;

const RENEWAL = {
  'renewal-signer-not-ours': entry(
    'renewal',
    'A RenewalReq is signed by a certificate this CA did not issue.',
    'Enroll with PKCSReq and a challenge, or sign the renewal with the certificate this CA issued.',
  ),
  'renewal-signer-expired': entry(
    'renewal',
    'The certificate signing the renewal has expired.',
    'Expired certificates cannot renew: enroll again with a challenge.',
  ),
  'renewal-signer-not-yet-valid': entry(
    'renewal',
    'The certificate signing the renewal is not valid yet.',
    'Check the device clock; then retry.',
  ),
  'renewal-signer-unknown': entry(
    'renewal',
    'The certificate signing the renewal is not in the certificate store.',
    'Enroll again with a challenge (the record may have expired from the store).',
  ),
  'renewal-signer-revoked': entry(
    'renewal',
    'The certificate signing the renewal is revoked.',
    'Revoked certificates cannot renew: enroll again with a challenge if the device is still trusted.',
  ),
  'renewal-identity-changed': entry(
    'renewal',
    'The renewal asks for another subject or other SANs than the certificate being renewed, and no valid challenge came with it.',
    'Renew with the same subject and SANs, or enroll with the endpoint’s challenge for the new identity.',
  ),
  'renewal-other-endpoint': entry(
    'renewal',
    'The certificate signing the renewal was issued by another endpoint.',
    'Renew at the endpoint that issued the certificate, or enroll here with a challenge.',
  ),
  'renewal-too-early': entry(
    'renewal',
    'The certificate being renewed is not yet within the endpoint’s renewal window.',
    'Wait until the renewal window opens (shown in the event), or enroll with a challenge.',
  ),
  'renewal-not-allowed': entry(
    'renewal',
    'The endpoint does not accept renewals signed by an existing certificate.',
    'Enroll with a challenge, or allow renewals on the endpoint.',
  ),
} as const satisfies Catalogue;

/** REST renewal with a client certificate (mutual TLS); codes as the REST API answers them. */
const CLIENT_CERTIFICATE = {
  not_configured: entry(
    'client-certificate',
    'Renewal with a client certificate is not enabled on this CA.',
    'Configure the trusted client-certificate header, or authenticate with an Entra token.',
  ),
  no_client_certificate: entry(
    'client-certificate',
    'No client certificate was presented.',
    'Present the certificate to renew in the TLS handshake (mutual TLS).',
  ),
  malformed_certificate: entry(
    'client-certificate',
    'The client certificate forwarded by the front end cannot be parsed.',
    'Check the front end forwards the certificate as PEM or base64 DER.',
  ),
  foreign_issuer: entry(
    'client-certificate',
    'The client certificate was not issued by this CA.',
    'Renew with a certificate this CA issued.',
  ),
  bad_signature: entry(
    'client-certificate',
    'The client certificate names this CA but this CA’s key did not sign it.',
    'Treat as a forgery attempt; investigate the device.',
  ),
  not_yet_valid: entry(
    'client-certificate',
    'The client certificate is not valid yet.',
    'Check the device clock.',
  ),
  expired: entry(
    'client-certificate',
    'The client certificate has expired.',
    'Enroll again with an Entra token.',
  ),
  unknown_certificate: entry(
    'client-certificate',
    'The client certificate is not in the certificate store.',
    'Enroll again with an Entra token.',
  ),
  revoked: entry(
    'client-certificate',
    'The client certificate is revoked.',
    'Enroll again if the device is trusted.',
  ),
  type_not_allowed: entry(
    'client-certificate',
    'Certificates of this authorization type may not renew themselves.',
    'Enroll with an Entra token, or allow the type in ReenrollmentAllowedCertificateTypes.',
  ),
  subject_mismatch: entry(
    'client-certificate',
    'The request subject differs from the client certificate’s.',
    'Renew with the same subject.',
  ),
  san_mismatch: entry(
    'client-certificate',
    'The request SANs differ from the client certificate’s.',
    'Renew with the same SANs.',
  ),
  other_endpoint: entry(
    'client-certificate',
    'The client certificate was issued by another endpoint than the one receiving the renewal.',
    'Renew at the endpoint that issued the certificate.',
  ),
  profile_unavailable: entry(
    'client-certificate',
    'The endpoint that issued the client certificate no longer exists, so its profile cannot be re-issued.',
    'Enroll again with an Entra token.',
  ),
  san_unsupported: entry(
    'client-certificate',
    'The request or the client certificate has a SAN type that cannot be compared (x400Address, ediPartyName).',
    'Renew with DNS, e-mail, URI, IP or UPN SANs only.',
  ),
} as const satisfies Catalogue;

const TRANSACTION = {
  'transaction-key-mismatch': entry(
    'transaction',
    'The transactionID was already used with another public key.',
    'Let the client start a new transaction (new transactionID) for a new key.',
  ),
  'transaction-busy': entry(
    'transaction',
    'Another request of the same transaction is in progress.',
    'Retry; the client does so on its own.',
  ),
  'transaction-revoked': entry(
    'transaction',
    'The certificate of this transaction has been revoked; it is not handed out again.',
    'Enroll with a new transactionID.',
  ),
  'transaction-unknown': entry(
    'transaction',
    'CertPoll for a transactionID that produced no certificate.',
    'Start over with PKCSReq.',
  ),
  'certificate-not-stored': entry(
    'transaction',
    'The certificate was issued but is not stored (certificate storage is off), so it cannot be sent again.',
    'Enroll with a new transactionID.',
  ),
  'certificate-unknown': entry(
    'transaction',
    'GetCert names an issuer and serial number this CA has no record of.',
    "Check the serial number, and that the issuer is this CA (the certificate's own issuer name).",
  ),
  'certificate-not-issued': entry(
    'transaction',
    'GetCert names a certificate that is revoked or on hold; it is not handed out again.',
    'Enroll again: a renewal or a new PKCSReq.',
  ),
  'requester-not-owner': entry(
    'transaction',
    'CertPoll or GetCert is not signed with the key of the certificate it asks for.',
    'Poll with the same key (and signer certificate) as the original request.',
  ),
} as const satisfies Catalogue;

/** Revocation: who revoked or released what, and Intune revocation requests that were not carried out. */
const REVOCATION = {
  'certificate-revoked': entry(
    'revocation',
    'A certificate was revoked (by an administrator, an Intune revocation request, or a renewal that superseded it).',
    'Nothing to fix; the event names who revoked it and the RFC 5280 reason.',
  ),
  'certificate-released': entry(
    'revocation',
    'A certificate on hold (certificateHold) was released and is valid again (RFC 5280 §5.3.1).',
    'Nothing to fix.',
  ),
  'revocation-already-revoked': entry(
    'revocation',
    'Intune asked to revoke a certificate that was already revoked; it was reported as done.',
    'Nothing to fix.',
  ),
  'revocation-certificate-unknown': entry(
    'revocation',
    'Intune asked to revoke a serial number this CA has no record of; Intune was told CertificateNotFoundError.',
    'Check the certificate was issued by this CA and stored (AppConfig__StoreCertificates); a certificate of another CA must be revoked there.',
  ),
  'revocation-other-issuer': entry(
    'revocation',
    'Intune asked to revoke a certificate whose issuer is another CA; Intune was told CertificateNotFoundError.',
    'Revoke it at the CA that issued it; check that the Intune SCEP profile points at the right CA.',
  ),
  'revocation-other-tenant': entry(
    'revocation',
    "An Intune tenant asked to revoke a certificate that was not issued through one of its own endpoints (another tenant's, or a non-Intune endpoint's); Intune was told CertificateNotFoundError and nothing was revoked.",
    'A tenant revokes only what its endpoints issued. If the certificate must go, revoke it through the management API; otherwise check which tenant the device is enrolled in.',
  ),
  'revocation-not-enabled': entry(
    'revocation',
    'An Intune tenant asked to revoke a certificate issued through one of its endpoints whose Intune revocation is off; Intune was told CertificateNotFoundError and nothing was revoked.',
    'Turn on intune.revocationEnabled on that endpoint (AppConfig__IntuneValidation__RevocationEnabled for the settings-defined intune endpoint), or revoke it through the management API.',
  ),
  'revocation-request-invalid': entry(
    'revocation',
    'Intune sent a revocation request this CA cannot read (e.g. a serial number that is not hexadecimal); Intune was told ParameterDataInvalidError.',
    'Nothing to fix here; the event shows what Intune sent.',
  ),
} as const satisfies Catalogue;

const AVAILABILITY = {
  'store-unavailable': entry(
    'availability',
    'The certificate store did not answer, so nothing was issued (a certificate is never handed out unrecorded).',
    'Nothing on the device: it retries. Check the store’s health (Cosmos DB throttling, network, or the embedded database file).',
  ),
  'signing-unavailable': entry(
    'availability',
    'The CA key could not sign the certificate.',
    'Check Key Vault availability and permissions (keys/sign); the device retries.',
  ),
  'ra-key-unavailable': entry(
    'availability',
    'The endpoint’s RA key could not be used.',
    'Check the RA key in Key Vault; the device retries.',
  ),
  'delivery-refused': entry(
    'availability',
    'The certificate was issued and recorded but could not be delivered (Intune did not accept the success notification).',
    'Nothing on the device: it retries and gets the same certificate; check the Intune connector status.',
  ),
  'reply-unavailable': entry(
    'availability',
    'The certificate was issued and recorded but the signed reply could not be produced (Key Vault); nothing was announced.',
    'Nothing on the device: its retry replays the same certificate. Check Key Vault availability.',
  ),
  'endpoint-unavailable': entry(
    'availability',
    'The endpoint’s configuration cannot be used (a missing secret or key), so it refuses every request.',
    'Fix the endpoint’s settings named in the startup log; the endpoint answers 503 until then.',
  ),
  overloaded: entry(
    'availability',
    'Too many requests were in progress on the endpoint; the request was shed.',
    'Nothing on the device: it retries. Raise AppConfig__ConcurrentScepRequestLimit or scale out if it persists.',
  ),
} as const satisfies Catalogue;

/** Intune validateRequest answers (`code`), Microsoft's enum in order, with their meaning. */
const INTUNE_CODES = {
  'intune:Unknown': entry(
    'intune',
    'Intune answered a code this CA does not know.',
    'Check the Intune SCEP API version; report the code.',
  ),
  'intune:CertificateRequestDecodingFailed': entry(
    'intune',
    'Intune could not decode the CSR sent for validation.',
    'The device CSR is malformed; re-push the SCEP profile.',
  ),
  'intune:ChallengePasswordMissing': entry(
    'intune',
    'Intune found no challenge in the CSR.',
    'Check the device got an Intune SCEP profile (not a static-challenge one).',
  ),
  'intune:ChallengeDeserializationError': entry(
    'intune',
    'Intune could not deserialize the challenge blob.',
    'The challenge was altered or comes from another tenant; re-push the profile.',
  ),
  'intune:ChallengeDecryptionError': entry(
    'intune',
    'Intune could not decrypt the challenge.',
    'The challenge belongs to another tenant or connector; check the endpoint’s Intune tenant.',
  ),
  'intune:ChallengeDecodingError': entry(
    'intune',
    'Intune could not decode the challenge.',
    'Re-push the SCEP profile to the device.',
  ),
  'intune:ChallengeInvalidTimestamp': entry(
    'intune',
    'The challenge timestamp is invalid.',
    'Check the device clock; re-push the profile.',
  ),
  'intune:ChallengeExpired': entry(
    'intune',
    'The Intune challenge has expired.',
    'Sync the device so Intune issues a fresh challenge.',
  ),
  'intune:SubjectNameMissing': entry(
    'intune',
    'The CSR lacks the subject name the profile requires.',
    'Check the subject name format of the Intune SCEP profile.',
  ),
  'intune:SubjectNameMismatch': entry(
    'intune',
    'The CSR subject differs from what the profile requires.',
    'Align the profile’s subject name format; check variables resolve for the user/device.',
  ),
  'intune:SubjectAltNameMissing': entry(
    'intune',
    'The CSR lacks a SAN the profile requires.',
    'Check the SAN settings of the Intune SCEP profile.',
  ),
  'intune:SubjectAltNameMismatch': entry(
    'intune',
    'A CSR SAN differs from what the profile requires.',
    'Align the profile’s SAN settings.',
  ),
  'intune:KeyUsageMismatch': entry(
    'intune',
    'The CSR key usage differs from the profile.',
    'Align key usage in the Intune profile.',
  ),
  'intune:KeyLengthMismatch': entry(
    'intune',
    'The CSR key length differs from the profile.',
    'Align key size in the Intune profile.',
  ),
  'intune:EnhancedKeyUsageMissing': entry(
    'intune',
    'The CSR lacks an EKU the profile requires.',
    'Check the extended key usage of the Intune profile.',
  ),
  'intune:EnhancedKeyUsageMismatch': entry(
    'intune',
    'The CSR EKUs differ from the profile.',
    'Align the extended key usage of the Intune profile.',
  ),
  'intune:AadKeyIdentifierListMissing': entry(
    'intune',
    'The CSR lacks the Entra key identifier list.',
    'Re-register the device with Entra ID; re-push the profile.',
  ),
  'intune:RegisteredKeyMismatch': entry(
    'intune',
    'The CSR key is not the one registered for the device.',
    'Re-register the device (Entra ID / Intune); re-push the profile.',
  ),
  'intune:SigningCertThumbprintMismatch': entry(
    'intune',
    'The request was signed with an unexpected certificate.',
    'Re-push the profile; check the device’s certificates.',
  ),
  'intune:ScepProfileNoLongerTargetedToTheClient': entry(
    'intune',
    'The SCEP profile is no longer assigned to this device or user.',
    'Assign the profile to the device/user group again, or ignore if intended.',
  ),
  'intune:SignatureValidationFailed': entry(
    'intune',
    'The challenge signature did not validate.',
    'The challenge was altered or is from another tenant; re-push the profile.',
  ),
  'intune:BadCertificateRequestIdInChallenge': entry(
    'intune',
    'The challenge names another certificate request.',
    'Sync the device to get a fresh challenge.',
  ),
  'intune:BadDeviceIdInChallenge': entry(
    'intune',
    'The challenge names another device.',
    'Sync the device; check the device was not re-enrolled.',
  ),
  'intune:BadUserIdInChallenge': entry(
    'intune',
    'The challenge names another user.',
    'Sync the device; check the primary user.',
  ),
} as const satisfies Catalogue;

/** Intune transport outcomes (no business answer from Intune). */
const INTUNE_TRANSPORT = {
  'intune:challenge-missing': entry(
    'intune',
    'The CSR carries no challenge, so Intune was not asked.',
    'Check the device got an Intune SCEP profile.',
  ),
  'intune:http': entry(
    'intune',
    'Intune answered with an HTTP error (the code names the status, e.g. intune:http-500).',
    'Retry later; check the Intune service health and the app registration’s API permission (scep_challenge_provider).',
  ),
  'intune:bad-response': entry(
    'intune',
    'Intune answered with a body that is not its JSON result.',
    'Check outbound proxies; retry later.',
  ),
  'intune:timeout': entry('intune', 'Intune did not answer in time.', 'Retry later; check outbound network.'),
  'intune:network': entry('intune', 'The connection to Intune failed.', 'Check outbound network and DNS.'),
  'intune:token': entry(
    'intune',
    'The Entra token for Intune could not be obtained.',
    'Check the app registration’s client id, secret or certificate and the tenant.',
  ),
  'intune:discovery': entry(
    'intune',
    'Graph service discovery failed.',
    'Check the app registration’s Graph permission (Application.Read.All) and outbound network.',
  ),
  'intune:service-not-found': entry(
    'intune',
    'Discovery does not list the Intune SCEP service for this tenant.',
    'Check the tenant has Intune licensed and the app has the SCEP permission.',
  ),
  'intune:invalid-argument': entry(
    'intune',
    'The transactionID or the CSR was empty, so Intune was not called.',
    'Fix the client: a SCEP request always carries both.',
  ),
} as const satisfies Catalogue;

export const REASONS = {
  ...DECISIONS,
  ...MESSAGE,
  ...ENVELOPE,
  ...CSR,
  ...CREDENTIALS,
  ...RENEWAL,
  ...CLIENT_CERTIFICATE,
  ...TRANSACTION,
  ...REVOCATION,
  ...AVAILABILITY,
  ...INTUNE_CODES,
  ...INTUNE_TRANSPORT,
} as const satisfies Catalogue;

export type CatalogueCode = keyof typeof REASONS;
/** A catalogue code, or an Intune HTTP status code of the `intune:http` family. */
export type ReasonCode = CatalogueCode | `intune:http-${number}`;

/** The refusal codes of each check, for the types of the modules that emit them. */
export type IntuneReason = Extract<ReasonCode, `intune:${string}`>;
export type RenewalSignerReason =
  Extract<ReasonCode, `renewal-signer-${string}`> extends `renewal-${infer R}` ? R : never;

const INTUNE_HTTP = /^intune:http-\d{3}$/;

export function isReasonCode(code: string): code is ReasonCode {
  return Object.hasOwn(REASONS, code) || INTUNE_HTTP.test(code);
}

/** The catalogue entry of a code (an `intune:http-NNN` code maps to `intune:http`). */
export function reasonEntry(code: ReasonCode): ReasonEntry {
  return INTUNE_HTTP.test(code) ? REASONS['intune:http'] : REASONS[code as CatalogueCode];
}

/** A string from outside (a query parameter, a stored event) as a code, if it is one. */
export function parseReason(code: string | undefined): ReasonCode | undefined {
  return code !== undefined && isReasonCode(code) ? code : undefined;
}

/** The refusals of an account challenge (lib/endpoints/account-authorizer.ts), codes of this catalogue. */
export const ACCOUNT_REFUSALS = [
  'challenge-missing',
  'challenge-malformed',
  'account-unknown',
  'account-secret-mismatch',
  'account-disabled',
  'account-expired',
  'account-used-up',
  'account-busy',
] as const satisfies readonly CatalogueCode[];
export type AccountReason = (typeof ACCOUNT_REFUSALS)[number];

/**
 * What a SCEP client is told of a refused account challenge: that it was rejected, not whether
 * the account exists, is disabled, expired or used up (an account's state is for the audit
 * trail, not the requester's business).
 */
export const CHALLENGE_REJECTED = 'challenge-rejected';
export function clientReason(reason: string): string {
  return (ACCOUNT_REFUSALS as readonly string[]).includes(reason) && reason !== 'challenge-missing'
    ? CHALLENGE_REJECTED
    : reason;
}
