/** Vitest reporter: under CI=true a skipped or todo test fails the run (a suite must not pass quietly). */
import type { Reporter, TestCase, TestModule, Vitest } from 'vitest/node';
import { isCi } from './binaries.js';

/** "file > suite > test" for every test that did not run, in file order. */
export function skippedTests(modules: ReadonlyArray<TestModule>): string[] {
  const skipped: string[] = [];
  for (const module of modules) {
    for (const test of module.children.allTests()) {
      if (test.result().state === 'skipped') skipped.push(describeTest(module, test));
    }
  }
  return skipped;
}

function describeTest(module: TestModule, test: TestCase): string {
  return `${module.relativeModuleId} > ${test.fullName}`;
}

export class NoSkipsReporter implements Reporter {
  private filtered = false;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  onInit(vitest: Vitest): void {
    // A name filter (-t) skips what it does not match on purpose; only a whole run is judged.
    this.filtered = vitest.config.testNamePattern !== undefined;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const skipped = skippedTests(modules);
    if (skipped.length === 0 || this.filtered) return;
    const list = skipped.map((name) => `  - ${name}`).join('\n');
    if (isCi(this.env)) {
      console.error(`\nCI=true: ${skipped.length} test(s) skipped, which CI counts as a failure:\n${list}\n`);
      process.exitCode = 1;
    } else {
      console.warn(`\n${skipped.length} test(s) skipped (CI=true would fail):\n${list}\n`);
    }
  }
}
