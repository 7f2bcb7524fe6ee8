import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    alias: {
      "@parley/protocol": fileURLToPath(new URL("./packages/protocol/src/index.ts", import.meta.url)),
      "@parley/client": fileURLToPath(new URL("./packages/client/src/index.ts", import.meta.url)),
      "@parley/react": fileURLToPath(new URL("./packages/react/src/index.ts", import.meta.url)),
    },
  },
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: "forks",
    projects: [
      {
        extends: true,
        test: { name: "node", include: ["packages/*/test/**/*.test.ts", "examples/test/**/*.test.ts", "bench/test/**/*.test.ts"], environment: "node" },
      },
      {
        // React tests run in jsdom; the server they talk to runs in plain Node (global setup).
        extends: true,
        test: {
          name: "react",
          include: ["packages/react/test/**/*.test.tsx"],
          environment: "jsdom",
          globalSetup: ["packages/react/test/support/global-setup.ts"],
        },
      },
      {
        // The built web app in headless Chromium against `parley serve --dev` (npm test builds first).
        extends: true,
        test: { name: "browser", include: ["apps/web/test/**/*.test.ts"], environment: "node", testTimeout: 90_000, hookTimeout: 60_000 },
      },
    ],
  },
});
