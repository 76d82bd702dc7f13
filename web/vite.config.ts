import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The UI builds into dist/web, which the server serves (src/platform/http/web-routes.ts).
// `npm run dev:web` serves it with hot reload and sends /api to a Shinrai on port 8420.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1000,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8420', '/status': 'http://127.0.0.1:8420' } },
});
