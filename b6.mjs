import 'reflect-metadata';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import http from 'node:http';
import { AsnParser } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
const { createRootCertificate } = await import('./dist/lib/ca/root.js');
const { buildCsr } = await import('./dist/lib/csr/build.js');
const { LocalKey } = await import('./dist/lib/keys/local.js');
const { buildPkiMessage } = await import('./dist/lib/scep/client.js');
const url = 'http://127.0.0.1:7072/scep/static';
const ca = AsnParser.parse(new Uint8Array(await (await fetch(url+'?operation=GetCACert')).arrayBuffer()), Certificate);
const key = generateKeyPairSync('rsa',{modulusLength:2048}).privateKey; const signer = new LocalKey(key,'c');
const cert = AsnParser.parse(await createRootCertificate({signer, subject:'CN=S', days:1}), Certificate);
const N=600; const msgs=[]; for (let i=0;i<N;i++){ const csr = await buildCsr({signer, subject:`CN=b${i}`, challenge:'benchpw12'}); msgs.push(buildPkiMessage({messageType:19, transactionId: randomUUID(), content: csr, recipients:[ca], signerKey:key, signerCert:cert})); }
const agent = new http.Agent({keepAlive:true, maxSockets:4});
const post = (m) => new Promise((res,rej)=>{ const r = http.request(url+'?operation=PKIOperation',{method:'POST',agent, headers:{'content-length':m.length}}, (x)=>{x.resume(); x.on('end',res)}); r.on('error',rej); r.end(m); });
let next=0; const t0=performance.now();
await Promise.all([0,1,2,3].map(async()=>{ while(next<N){ const i=next++; await post(msgs[i]); } }));
console.log('c=4', (N/((performance.now()-t0)/1000)).toFixed(1),'/s');
