import { app } from '@azure/functions';
import { afterEach, describe, expect, it, vi } from 'vitest';

describe('Functions HTTP streaming', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('loading the HTTP handler wrapper that every HTTP function uses turns streaming on', async () => {
    const setup = vi.spyOn(app, 'setup').mockImplementation(() => undefined);
    vi.resetModules();
    await import('../../lib/http/handler.js');
    expect(setup).toHaveBeenCalledWith({ enableHttpStream: true });
  });
});
