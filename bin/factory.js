#!/usr/bin/env node
// `npx factory ...`: runs the CLI as bundled by scripts/build.mjs, so a start loads plain
// JavaScript instead of transpiling src/ every time. While editing src/, `npm run factory`
// runs the TypeScript directly; `npm run build` refreshes the bundle (CI fails when it is stale).
import '../dist-cli/factory.js';
