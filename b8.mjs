import 'reflect-metadata';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { AsnParser } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
const { createRootCertificate } = await import('./dist/lib/ca/root.js');
const { buildCsr } = await import('./dist/lib/csr/build.js');
const { LocalKey } = await import('./dist/lib/keys/local.js');
const { buildPkiMessage } = await import('./dist/lib/scep/client.js');
const { createApp } = await import('./dist/lib/app.js');
const { silentLogger } = await import('./dist/lib/log.js');
const app = await createApp({ AppConfig__DataDir: mkdtempSync('/tmp/b8-'), AppConfig__StaticValidation__RequestPassword: 'benchpw12' }, { logger: silentLogger });
const ca = app.issuer.caCertificate;
const key = generateKeyPairSync('rsa',{modulusLength:2048}).privateKey; const signer = new LocalKey(key,'c');
const cert = AsnParser.parse(await createRootCertificate({signer, subject:'CN=S', days:1}), Certificate);
const N=Number(process.argv[2]??600); const msgs=[]; for (let i=0;i<N;i++){ const csr = await buildCsr({signer, subject:`CN=b${i}, O=Org, C=US`, challenge:'benchpw12'}); msgs.push(buildPkiMessage({messageType:19, transactionId: randomUUID(), content: csr, recipients:[ca], signerKey:key, signerCert:cert})); }
const c0=process.cpuUsage(); const t0=performance.now();
for (let i=0;i<N;i++) await app.scep.handle('static', {method:'POST', operation:'PKIOperation', rawMessage: undefined, body: msgs[i]});
const c=process.cpuUsage(c0); console.log('full handle', ((c.user+c.system)/1000/N).toFixed(3),'ms cpu', ((performance.now()-t0)/N).toFixed(3),'ms wall');
