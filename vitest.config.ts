import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Generous: the machine is shared, and a loaded one runs pahole over a 600 MB vmlinux for minutes.
    // Timeouts only catch hangs; speed is measured in bench/.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // Two cores: more workers only fight over the CPU and the page cache.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    pool: 'forks',
    reporters: ['default'],
  },
});
