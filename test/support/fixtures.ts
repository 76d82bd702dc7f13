import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The shared fixtures (real OpenSLO and Sloth files) checked out beside this repository. */
export const SHARED_FIXTURES =
  process.env.SHINRAI_SHARED_FIXTURES ?? fileURLToPath(new URL('../../../shared/fixtures', import.meta.url));

export function sharedFixture(relativePath: string): string {
  const path = `${SHARED_FIXTURES}/${relativePath}`;
  if (!existsSync(path)) throw new Error(`shared fixture missing: ${path} (is ../shared beside the repo?)`);
  return path;
}
