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
    // React tests are .test.tsx and choose jsdom with a `// @vitest-environment jsdom` comment.
    include: ["packages/*/test/**/*.test.ts", "packages/*/test/**/*.test.tsx"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});
