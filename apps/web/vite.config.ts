import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The Parley server serves `dist/` at `/`; `npm run dev -w @parley/web` proxies the API to a node on :4000.
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
  server: {
    proxy: {
      "/v1": "http://localhost:4000",
      "/dev": "http://localhost:4000",
      "/web-app.json": "http://localhost:4000",
      "/socket.io": { target: "ws://localhost:4000", ws: true },
    },
  },
});
