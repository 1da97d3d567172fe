import azf from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { LocalHttpRequest, LocalInvocationContext } from '../../scripts/local/invocation.js';
import { LocalNativeRequest } from '../../scripts/local/request.js';

/**
 * The local host's request object answers like the HttpRequest @azure/functions builds over a
 * web Request: compared side by side.
 */
const URL_ = 'http://127.0.0.1:7071/api/x?operation=PKIOperation&message=a%2Bb&message=c';

/** HttpRequest's public surface, which both answer. */
type RequestSurface = { [K in keyof azf.HttpRequest]: azf.HttpRequest[K] };

/** The library's HttpRequest and the local host's own (local/invocation.ts), over the same request. */
function both(method: string, headers: Record<string, string>, body?: Buffer): RequestSurface[] {
  const init = { method, url: URL_, headers, params: { endpoint: 'static' } };
  const real = new azf.HttpRequest(body ? { ...init, body: { bytes: body } } : init);
  const native = new LocalNativeRequest(URL_, method, headers, body);
  return [real, new LocalHttpRequest(native, { endpoint: 'static' }, new URL(URL_).searchParams)];
}

describe('LocalHttpRequest over LocalNativeRequest', () => {
  it('ok/method, URL, query (repeated keys too), params and headers as the web Request gives them', () => {
    const [real, local] = both('POST', { 'content-type': 'application/x-pki-message', 'x-a': '1' });
    if (!real || !local) throw new Error('no requests');
    expect(local.method).toBe(real.method);
    expect(local.url).toBe(real.url);
    expect(local.query.getAll('message')).toEqual(['a+b', 'c']);
    expect(local.params).toEqual(real.params);
    expect([...local.headers]).toEqual([...real.headers]);
  });

  it('ok/bytes, text without the UTF-8 byte order mark, and JSON read like the web Request', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":"é"}')]);
    for (const read of ['arrayBuffer', 'text', 'json'] as const) {
      const [real, local] = both('POST', { 'content-type': 'application/json' }, body);
      if (!real || !local) throw new Error('no requests');
      expect(await local[read]()).toEqual(await real[read]());
      expect(local.bodyUsed).toBe(true);
      await expect(local[read]()).rejects.toThrow(TypeError);
    }
  });

  it('ok/the body as a stream, a blob, and a GET without a body', async () => {
    const [, local] = both('POST', {}, Buffer.from('streamed'));
    if (!local?.body) throw new Error('no body stream');
    expect(await new Response(local.body).text()).toBe('streamed');
    const [, blob] = both('POST', {}, Buffer.from('blob'));
    expect(await (await blob?.blob())?.text()).toBe('blob');
    const [realGet, localGet] = both('GET', {});
    expect(localGet?.body).toBe(realGet?.body);
    expect(await localGet?.text()).toBe('');
  });

  it('fail/invalid JSON is a rejection, as with the web Request', async () => {
    const [real, local] = both('POST', {}, Buffer.from('{not json'));
    await expect(real?.json()).rejects.toThrow(SyntaxError);
    await expect(local?.json()).rejects.toThrow(SyntaxError);
  });
});

describe('LocalHttpRequest and LocalInvocationContext beside the library', () => {
  it('ok/method, URL, query, params, headers, body reads and clone answer as the library’s HttpRequest', async () => {
    const body = Buffer.from('{"a":"é"}');
    const [real, local] = both('POST', { 'content-type': 'application/json', 'x-a': '1' }, body);
    if (!real || !local) throw new Error('no requests');
    expect([local.method, local.url, local.params]).toEqual([real.method, real.url, real.params]);
    expect(local.query.getAll('message')).toEqual(real.query.getAll('message'));
    expect([...local.headers]).toEqual([...real.headers]);
    const [realCopy, localCopy] = [real.clone(), local.clone()];
    expect(await local.json()).toEqual(await real.json());
    expect(local.bodyUsed).toBe(real.bodyUsed);
    await expect(local.text()).rejects.toThrow(TypeError);
    expect(await localCopy.text()).toBe(await realCopy.text());
    expect(() => local.clone()).toThrow(TypeError); // like the web Request once its body is read
    expect(local.user).toBeNull();
    const [realGet, localGet] = both('GET', {});
    expect(localGet?.body).toBe(realGet?.body);
    expect(await localGet?.arrayBuffer()).toEqual(await realGet?.arrayBuffer());
  });

  it('ok/the context carries the function name and invocation id, and extra bindings by name', () => {
    const c = new LocalInvocationContext('ocsp', 'id-1');
    const real = new azf.InvocationContext({ functionName: 'ocsp', invocationId: 'id-1' });
    expect([c.functionName, c.invocationId]).toEqual([real.functionName, real.invocationId]);
    c.extraOutputs.set('out', 1);
    real.extraOutputs.set('out', 1);
    expect(c.extraOutputs.get('out')).toBe(real.extraOutputs.get('out'));
    expect(c.extraInputs.get('none')).toBeUndefined();
  });
});
