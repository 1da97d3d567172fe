import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (unit + integration tests, files in parallel) and `interop` (real SCEP
 * clients against the local host). Interop files run one at a time, after the others
 * (groupOrder 1), so the clients' RSA work and time limits do not compete with the unit tests.
 */
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/interop/**'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'interop',
          include: ['test/interop/**/*.test.ts'],
          // Each test runs one or two real client processes, each bounded at 30 s.
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
