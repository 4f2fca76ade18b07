/**
 * Builds the single-page client (web/) into dist/web, which the server
 * serves at `/`; and configures vitest for every test in the repository.
 */
import { defineConfig } from 'vitest/config'
import preact from '@preact/preset-vite'

export default defineConfig({
  root: 'web',
  plugins: [preact()],
  // CodeMirror, loaded lazily, is one ~500 kB chunk by itself.
  build: { outDir: '../dist/web', emptyOutDir: true, chunkSizeWarningLimit: 600 },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
  test: {
    root: '.',
    include: ['{config,protocol,server,worker,sandbox,bench,test}/**/*.test.ts'],
    // Processes, sockets and isolates are real: give them time on a slow machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
})
