import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at once (vitest's default on 2 cores is one): most files spend their time waiting
    // on child processes (the CLI, moto) and loopback I/O, so a second file fills that wait. Measured
    // on test/pipeline (issue 16). FAX_SUNSET_TEST_WORKERS overrides (README "Set-up").
    maxWorkers: Number(process.env.FAX_SUNSET_TEST_WORKERS) || 2,
    reporters: ['default'],
    // The AWS SDK warns on every client under Node 20 that future SDK releases need Node 22; the CLI
    // turns it off (src/cli.ts), and so do the tests, whose log it would otherwise fill (issue 17 §11).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
