import { defineConfig } from 'vite';

/** The dashboard page: web/ built into web/dist, which the server serves at `/`. */
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
  server: {
    // `npm run dev:web` serves the page with hot reload and sends the API to a running server.
    proxy: { '/graphql': { target: 'http://127.0.0.1:4000', ws: true } },
  },
});
