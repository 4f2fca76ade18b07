/**
 * Builds the web client into dist/web, which the server serves at `/`, and
 * configures vitest for every test in the repository. `npm run build` runs two
 * builds: the single-page app (default mode), then with `--mode embed` the
 * embed script, dist/web/embed.js (one IIFE holding everything it needs,
 * since it runs on other sites' pages) and the stylesheet its cells load into
 * their shadow roots, dist/web/embed.css.
 */
import { defineConfig } from 'vitest/config'
import preact from '@preact/preset-vite'

export default defineConfig(({ mode }) => ({
  root: 'web',
  plugins: [preact()],
  build: mode === 'embed'
    ? {
        outDir: '../dist/web',
        // The app's build ran first into the same folder.
        emptyOutDir: false,
        lib: { entry: 'embed/index.tsx', formats: ['iife'], name: 'cellgate', fileName: () => 'embed.js', cssFileName: 'embed' },
      }
    // CodeMirror, loaded lazily, is one ~500 kB chunk by itself.
    : { outDir: '../dist/web', emptyOutDir: true, chunkSizeWarningLimit: 600 },
  // Library builds leave process.env.NODE_ENV to the consumer; a host page has no such thing.
  define: mode === 'embed' ? { 'process.env.NODE_ENV': '"production"' } : {},
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
  test: {
    root: '.',
    include: ['{config,protocol,server,worker,sandbox,bench,test}/**/*.test.ts'],
    // Processes, sockets and isolates are real: give them time on a slow machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // What a test polls for often waits on a whole cell run (a browser test's first run starts a session's isolate).
    expect: { poll: { timeout: 15_000 } },
    pool: 'forks',
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
}))
