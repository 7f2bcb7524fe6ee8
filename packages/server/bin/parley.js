#!/usr/bin/env node
// The `parley` command: runs the compiled CLI (build first with `npm run build`).
import "../dist/cli/main.js";
