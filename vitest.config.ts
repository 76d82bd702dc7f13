import { defineConfig } from 'vitest/config';
import { NoSkipsReporter } from './test/support/no-skips-reporter.js';

// Two projects: `unit` needs no services and runs in `npm run verify`;
// `integration` starts servers, databases or browsers and runs in `npm test`.
export default defineConfig({
  test: {
    // Under CI=true a skipped test fails the run (.ci/run sets it); locally the skips are listed.
    reporters: ['default', new NoSkipsReporter()],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'web/src/**/*.test.ts', 'scripts/**/*.test.ts'],
          // Pure tests with no global state: sharing a worker's module graph across files halves
          // the suite (60 s → 28 s on two cores), which keeps `npm run verify` under a minute.
          isolate: false,
          // Fuzz and worker tests take 1–3 s alone and 10 s on a loaded box: a slow box is not a failure.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
