import type { StatusCertificate, StatusEndpoint, StatusModel, StatusRaCertificate } from './model.js';

/**
 * The public status page at `/`: plain HTML that works without JavaScript (a small script only
 * adds copy buttons). Everything on it is public by nature: the CA certificate, its
 * fingerprints, the SCEP and revocation URLs, and health as words.
 */
export function renderStatusPage(m: StatusModel): string {
  const scep = m.endpoints.find((e) => !e.type.endsWith('-intune')) ?? m.endpoints[0];
  const intune = m.endpoints.find((e) => e.type.endsWith('-intune'));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>SCEP CA status</title><style>${CSS}</style></head>
<body><header><h1>SCEP certificate authority</h1><p><a href="/admin">Admin console</a></p></header><main>
<section aria-labelledby="ca"><h2 id="ca">CA certificate</h2>${certificateBlock(m.ca, 'ca')}
<p class="links"><a href="${esc(m.caCerPath)}" download="ca.cer">Download DER (.cer)</a>
<a href="/ca.pem" download="ca.pem">Download PEM</a>
<a href="/ca-chain.pem" download="ca-chain.pem">Download chain (PEM)</a></p></section>
${m.chain.length > 0 ? `<section aria-labelledby="chain"><h2 id="chain">Chain above the CA</h2>${m.chain.map((c, i) => certificateBlock(c, `chain${i}`)).join('')}</section>` : ''}
<section aria-labelledby="eps"><h2 id="eps">SCEP endpoints</h2>${endpointTable(m.endpoints)}</section>
${raSection(m.raCertificates)}
<section aria-labelledby="rev"><h2 id="rev">Revocation</h2>${
    m.crlUrl !== undefined && m.ocspUrl !== undefined
      ? `<dl><dt>CRL</dt><dd>${copyable(m.crlUrl, 'crl')}</dd><dt>OCSP</dt><dd>${copyable(m.ocspUrl, 'ocsp')}</dd></dl>`
      : '<p>Revocation status is not published by this instance.</p>'
  }</section>
<section aria-labelledby="health"><h2 id="health">Health</h2><dl class="health">${Object.entries(m.health)
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd class="h-${v.replace(' ', '-')}">${esc(v)}</dd>`)
    .join('')}</dl></section>
<section aria-labelledby="mdm"><h2 id="mdm">What to paste into your MDM</h2>${hints(m, scep, intune)}</section>
</main><script>${SCRIPT}</script></body></html>`;
}

function certificateBlock(c: StatusCertificate, id: string): string {
  return `<dl><dt>Subject</dt><dd>${esc(c.subject)}</dd><dt>Issuer</dt><dd>${esc(c.issuer)}</dd>
<dt>Valid</dt><dd><time datetime="${c.notBefore}">${c.notBefore.slice(0, 10)}</time> to <time datetime="${c.notAfter}">${c.notAfter.slice(0, 10)}</time></dd>
<dt>SHA-256 fingerprint</dt><dd>${copyable(c.sha256, `${id}-sha256`)}</dd>
<dt>SHA-1 fingerprint</dt><dd>${copyable(c.sha1, `${id}-sha1`)}</dd></dl>`;
}

function endpointTable(eps: readonly StatusEndpoint[]): string {
  if (eps.length === 0) return '<p>No SCEP endpoint is enabled.</p>';
  const rows = eps
    .map(
      (e) =>
        `<tr><td>${esc(e.displayName)}</td><td>${esc(e.type)}</td><td>${copyable(e.url, `ep-${e.name}`)}</td></tr>`,
    )
    .join('');
  return `<div class="scroll"><table><thead><tr><th scope="col">Endpoint</th><th scope="col">Type</th><th scope="col">SCEP URL</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function raSection(ras: readonly StatusRaCertificate[]): string {
  if (ras.length === 0) return '';
  const rows = ras
    .map(
      (r) =>
        `<tr><td>${esc(r.endpoint)}</td><td>${esc(r.subject)}</td><td><time datetime="${esc(r.notAfter)}">${esc(r.notAfter.slice(0, 10))}</time></td><td><code>${esc(r.sha256)}</code></td><td><a href="${esc(r.url)}" download>PEM</a></td></tr>`,
    )
    .join('');
  return `<section aria-labelledby="ra"><h2 id="ra">RA certificates</h2><p>Endpoints in RA mode sign and decrypt SCEP messages with their own RA certificate; GetCACert returns it with the CA.</p><div class="scroll"><table><thead><tr><th scope="col">Endpoint</th><th scope="col">Subject</th><th scope="col">Expires</th><th scope="col">SHA-256</th><th scope="col">Download</th></tr></thead><tbody>${rows}</tbody></table></div></section>`;
}

function hints(m: StatusModel, scep: StatusEndpoint | undefined, intune: StatusEndpoint | undefined): string {
  const url = scep ? `<code>${esc(scep.url)}</code>` : 'the endpoint’s SCEP URL';
  const sha1 = `<code>${esc(m.ca.sha1.replaceAll(':', ''))}</code>`;
  return `<dl class="hints">
<dt>Microsoft Intune</dt><dd>Trusted certificate profile: upload <a href="${esc(m.caCerPath)}">ca.cer</a>. SCEP certificate profile: SCEP server URL ${
    intune ? `<code>${esc(m.baseUrl)}/certsrv/mscep/mscep.dll</code>` : '(enable the Intune endpoint first)'
  }, root certificate: that trusted certificate profile, key usage digital signature and key encipherment, key size 2048 or more.</dd>
<dt>Kandji</dt><dd>SCEP library item: URL ${url}, challenge: the account’s challenge, fingerprint: the CA’s SHA-1 fingerprint ${sha1}. Add <a href="${esc(m.caCerPath)}">ca.cer</a> as a certificate library item.</dd>
<dt>Addigy</dt><dd>SCEP payload: URL ${url}, challenge: the account’s challenge; paste the <a href="/ca.pem">PEM root</a> as the CA certificate. Turn on “Proxy SCEP Requests” when devices cannot reach this URL directly.</dd>
<dt>Jamf Pro</dt><dd>Configuration profile → SCEP: URL ${url}, challenge type static, challenge: the account’s challenge, fingerprint ${sha1}; upload <a href="${esc(m.caCerPath)}">ca.cer</a> in a Certificate payload.</dd></dl>`;
}

function copyable(text: string, id: string): string {
  return `<code id="${esc(id)}">${esc(text)}</code> <button type="button" class="copy" data-copy="${esc(id)}" hidden>Copy</button>`;
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fff}
header{background:#0b3d91;color:#fff;padding:.75rem 1.25rem;display:flex;justify-content:space-between;align-items:center;flex-wrap:wrap}
header h1{font-size:1.3rem;margin:0}header a{color:#fff}main{max-width:70rem;margin:0 auto;padding:1rem 1.25rem}
h2{font-size:1.15rem;border-bottom:1px solid #ccc;padding-bottom:.25rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}code{font-size:.9em;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ddd}.scroll{overflow-x:auto}
.links a{margin-right:1rem}a{color:#0b3d91}button{font:inherit;padding:.1rem .5rem;cursor:pointer}
.h-ok{color:#0a6b2d;font-weight:600}.h-unavailable{color:#a4000f;font-weight:600}
@media (max-width:600px){dl{grid-template-columns:1fr}dd{margin-bottom:.5rem}}`;

const SCRIPT = `for(const b of document.querySelectorAll('button.copy')){b.hidden=false;b.addEventListener('click',()=>{const t=document.getElementById(b.dataset.copy).textContent;navigator.clipboard.writeText(t).then(()=>{b.textContent='Copied'},()=>{b.textContent='Select and copy'})})}`;
