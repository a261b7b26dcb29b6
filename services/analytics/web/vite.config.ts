import { defineConfig } from "vite";

// The bundle is embedded in the analytics binary (internal/ports/dashboard, go:embed), which
// serves it under /dashboard/: relative asset URLs keep it working under any prefix, and
// hashed file names let the handler cache assets for good. `npm run dev` proxies the REST API
// to a running analytics service (EVCRM_ANALYTICS_HTTP, default the launcher's :9304).
export default defineConfig({
  base: "./",
  build: {
    outDir: "../internal/ports/dashboard/dist",
    emptyOutDir: true,
    // One JS and one CSS file: the page is small and served from loopback or a LAN.
    chunkSizeWarningLimit: 1500,
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    proxy: {
      "/v1": process.env.EVCRM_ANALYTICS_HTTP ?? "http://127.0.0.1:9304",
    },
  },
});
