import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

const root = fileURLToPath(new URL('.', import.meta.url));

// The gateway serves the build from gateway/dist/site (static.ts): inside dist/, so it is
// git-ignored with the rest of the build, and found at the same place from src/ and dist/.
export default defineConfig({
  root,
  plugins: [preact()],
  build: {
    outDir: fileURLToPath(new URL('../dist/site', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // Chromium, Firefox and Safari all support modulepreload; the polyfill would only add bytes.
    modulePreload: { polyfill: false },
    // Inlined assets would become data: URLs; keep everything a file so the CSP stays 'self'.
    assetsInlineLimit: 0,
    reportCompressedSize: true,
  },
  server: {
    // `npm run dev:site -w gateway` next to `./crucible up`: the API comes from the real gateway.
    proxy: { '/v1': process.env.CRUCIBLE_URL ?? 'http://127.0.0.1:8080' },
  },
});
