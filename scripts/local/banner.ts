import { networkInterfaces } from 'node:os';

/** What `npm start` prints once it listens: where to point devices, the CA, the keys. */
export function printBanner(
  baseUrl: string,
  endpoints: readonly string[],
  fp: { sha256: string; sha1: string; subject: string },
  challenge: string | undefined,
  adminKey: string | undefined,
): void {
  const lines = [
    '',
    `azure-scep-ca is listening on ${baseUrl}`,
    '',
    ...endpoints.map((e) => `  SCEP URL (${e}):  ${baseUrl}/scep/${e}`),
    `  CA certificate:  ${baseUrl}/scep/${endpoints[0] ?? 'static'}?operation=GetCACert`,
    `  Health:          ${baseUrl}/probe`,
    `  Status page:     ${baseUrl}/`,
    `  Admin console:   ${baseUrl}/admin`,
    '',
    `  CA subject:      ${fp.subject}`,
    `  CA SHA-256:      ${fp.sha256}`,
    `  CA SHA-1:        ${fp.sha1}`,
    ...(challenge !== undefined ? [`  Static challenge: ${challenge}`] : []),
    ...(adminKey !== undefined
      ? [`  Admin key:        ${adminKey}  (${baseUrl}/api/manage/, npm run admin -- --help)`]
      : []),
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Listening beyond loopback: say so, and where devices on the network find the CA. */
export function printLanWarning(bind: string, port: number): void {
  const addresses = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal && (bind === '0.0.0.0' ? a.family === 'IPv4' : true))
    .map((a) => (a?.family === 'IPv6' ? `[${a.address}]` : (a?.address ?? '')));
  const lines = [
    `WARNING: listening on ${bind}:${port}: anyone on this network can enroll with the static`,
    '  challenge and reach the management API with the admin key. Use it for trials only.',
    ...addresses.map((a) => `  LAN: http://${a}:${port}/  (SCEP: http://${a}:${port}/scep/static)`),
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
