import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    // The AWS SDK warns on every client under Node 20 that future SDK releases need Node 22; the CLI
    // turns it off (src/cli.ts), and so do the tests, whose log it would otherwise fill (issue 17 §11).
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
