/** External programs the integration suites run: skipped locally when missing, a failure under CI=true. */
import { accessSync, constants } from 'node:fs';

export interface RequiredBinary {
  /** What a person calls it, e.g. "promtool". */
  readonly name: string;
  /** Absolute path the tests run. */
  readonly path: string;
  /** The Debian package that installs it (what .ci/run installs). */
  readonly debianPackage: string;
  /** Environment variable that overrides `path`. */
  readonly envVar: string;
}

function binary(name: string, envVar: string, defaultPath: string, debianPackage: string): RequiredBinary {
  return { name, path: process.env[envVar] ?? defaultPath, debianPackage, envVar };
}

export const PROMETHEUS = binary(
  'prometheus',
  'SHINRAI_TEST_PROMETHEUS',
  '/usr/bin/prometheus',
  'prometheus',
);
export const PROMTOOL = binary('promtool', 'SHINRAI_TEST_PROMTOOL', '/usr/bin/promtool', 'prometheus');
export const ALERTMANAGER = binary(
  'prometheus-alertmanager',
  'SHINRAI_TEST_ALERTMANAGER',
  '/usr/bin/prometheus-alertmanager',
  'prometheus-alertmanager',
);

/** True when CI=true (or any value but "", "0" and "false"), the way CI systems set it. */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The binaries of `required` that are not executable where the tests look for them. */
export function missingBinaries(required: readonly RequiredBinary[]): RequiredBinary[] {
  return required.filter((b) => !executable(b.path));
}

/** One readable line naming what is missing and how to install it. */
export function missingMessage(missing: readonly RequiredBinary[]): string {
  const what = missing.map((b) => `${b.name} (${b.path}; set ${b.envVar} to use another path)`).join(', ');
  const packages = [...new Set(missing.map((b) => b.debianPackage))].join(' ');
  return `${what} not installed: apt-get install ${packages}`;
}

/**
 * Whether the suites that need `required` can run. Locally a missing binary skips them (with a
 * warning); under CI it throws, so the test file fails instead of passing quietly.
 */
export function binariesAvailable(
  required: readonly RequiredBinary[],
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  const missing = missingBinaries(required);
  if (missing.length === 0) return true;
  const message = missingMessage(missing);
  if (isCi(env)) throw new Error(`CI=true and ${message} — CI never skips these tests`);
  console.warn(`SKIPPED: ${message} (CI=true fails instead)`);
  return false;
}
