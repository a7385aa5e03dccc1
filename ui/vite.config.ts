import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

/** The web UI: built into dist/ui, which the daemon serves under /ui/. Everything is bundled; nothing is fetched from elsewhere. */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/ui/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    // no inline data: assets or scripts: the page's CSP allows only its own files
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false }
  }
})
