// Build of the web UI into web/dist, served by the gateway at `/`. During development the
// API is proxied to the gateway so the browser sees one origin, as in production.
import { defineConfig } from "vite";

const api = process.env.MAILLON_API_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 400 },
  server: { proxy: { "/v1": { target: api, changeOrigin: false } } },
  preview: { proxy: { "/v1": { target: api, changeOrigin: false } } },
});
