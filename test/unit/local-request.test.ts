import azf from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { LocalNativeRequest } from '../../scripts/local/request.js';

/**
 * The local host's request object answers like the web Request @azure/functions would build:
 * compared side by side through HttpRequest.
 */
const URL_ = 'http://127.0.0.1:7071/api/x?operation=PKIOperation&message=a%2Bb&message=c';

function both(method: string, headers: Record<string, string>, body?: Buffer): azf.HttpRequest[] {
  const init = { method, url: URL_, headers, params: { endpoint: 'static' } };
  const withBody = body ? { ...init, body: { bytes: body } } : init;
  // `nativeRequest` is the init field the Functions host passes; not in the public type.
  const local = { ...withBody, nativeRequest: new LocalNativeRequest(URL_, method, headers, body) };
  return [new azf.HttpRequest(withBody), new azf.HttpRequest(local)];
}

describe('LocalNativeRequest', () => {
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
