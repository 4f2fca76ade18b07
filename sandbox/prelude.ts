/**
 * The prelude: sandbox/isolate/ bundled with object-inspect into one classic
 * script whose completion value is the `enter` function (see isolate/wire.ts).
 * Built once per process with esbuild; each isolate compiles it once
 * (slot.ts) and runs it in every fresh context, which is the cheap part.
 */
import { build, type Plugin } from 'esbuild'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { MAX_OUTPUT_CHUNK, OUTPUT_OVERHEAD_BYTES } from '../protocol/index.ts'

/** Filename of the prelude in stack traces; frames from it are never shown to a cell's author. */
export const PRELUDE_FILENAME = 'cellgate-prelude.js'

/** Result text and JSON longer than this are clipped / left out (the protocol's limit on result text). */
const MAX_RESULT_CHARS = 1024 * 1024

let built: Promise<string> | undefined

/** The prelude's source, built on first use (esbuild, a few tens of ms). */
export function buildPrelude(): Promise<string> {
  built ??= bundle()
  return built
}

/**
 * object-inspect builds a table of character widths when it loads, which
 * costs more than the rest of it; it needs the table only to lay out long
 * arrays. This loads it on first use instead. (Should object-inspect change
 * that line, nothing breaks: the table is just built eagerly again.)
 */
const lazyStringWidth: Plugin = {
  name: 'lazy-string-width',
  setup(plugin) {
    plugin.onLoad({ filter: /object-inspect[\\/]index\.js$/ }, async ({ path }) => ({
      contents: (await readFile(path, 'utf8')).replace(
        "var getStringWidth = require('./stringWidth');",
        "var getStringWidth = function (text) { return require('./stringWidth')(text); };",
      ),
      loader: 'js',
    }))
  },
}

async function bundle(): Promise<string> {
  const { outputFiles } = await build({
    entryPoints: [fileURLToPath(new URL('./isolate/entry.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'prelude',
    // The browser build of object-inspect leaves out its Node `util` fallback.
    platform: 'browser',
    target: 'esnext',
    define: { MAX_OUTPUT_CHUNK: String(MAX_OUTPUT_CHUNK), MAX_RESULT_CHARS: String(MAX_RESULT_CHARS), OUTPUT_OVERHEAD_BYTES: String(OUTPUT_OVERHEAD_BYTES) },
    logLevel: 'silent',
    plugins: [lazyStringWidth],
  })
  const code = outputFiles[0]?.text
  if (code === undefined) throw new Error('esbuild produced no prelude')
  // The wrapper keeps `prelude` a local, so the cell cannot reach `enter`.
  return `(function () {\n${code}\nreturn prelude.enter\n})()`
}
