import { join } from 'node:path';
import { createLocalCa, readLocalCa } from '../keys/local-ca.js';
import type { NextCaCertificate, NextCaRequest, NextCaStore } from './next.js';

/** The embedded default: the next CA's key and certificate in `<data folder>/ca/next/`. */
export class LocalNextCaStore implements NextCaStore {
  readonly location: string;

  constructor(
    private readonly caDir: string,
    private readonly keySize: number,
  ) {
    this.location = `local:${join(caDir, 'next')}`;
  }

  async read(): Promise<NextCaCertificate | undefined> {
    const ca = await readLocalCa(join(this.caDir, 'next'));
    return ca && { certificateDer: ca.certificateDer, chainDer: ca.chainDer };
  }

  async createRoot(r: NextCaRequest): Promise<NextCaCertificate> {
    const ca = await createLocalCa(join(this.caDir, 'next'), {
      subject: r.subject,
      keySize: this.keySize,
      validityDays: r.validityDays,
      now: r.now,
    });
    return { certificateDer: ca.certificateDer, chainDer: ca.chainDer };
  }
}
