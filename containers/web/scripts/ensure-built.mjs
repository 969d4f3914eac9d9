#!/usr/bin/env node
// Brings dist/ up to date, doing only what changed (run by `devstack up` before the web
// server starts, and by the Dockerfile's build stage):
//   - `npm ci` when node_modules is missing or package-lock.json changed since the last one;
//   - `npm run build` when the sources, the lock or the build config changed since dist/.
// Stamps with the inputs' sha256 sit in node_modules/.aia-lock.sha256 and dist/.aia-build.sha256.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BUILD_INPUTS = ['src', 'public', 'index.html', 'package.json', 'package-lock.json', 'vite.config.ts', 'tsconfig.json'];
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function files(path) {
  const full = join(root, path);
  if (!existsSync(full)) return [];
  if (statSync(full).isFile()) return [full];
  return readdirSync(full, { withFileTypes: true })
    .flatMap((entry) => files(relative(root, join(full, entry.name))))
    .sort();
}

function digest(paths) {
  const hash = createHash('sha256');
  for (const file of paths.flatMap(files)) {
    hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

const readStamp = (path) => (existsSync(path) ? readFileSync(path, 'utf-8').trim() : null);

function run(args, what) {
  console.log(`  ${what}: npm ${args.join(' ')}`);
  const started = Date.now();
  const result = spawnSync(npm, args, { cwd: root, stdio: 'inherit', env: { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' } });
  if (result.error) {
    console.error(`  ${what} failed: ${result.error.message} (is Node.js ≥ 20.19 with npm installed?)`);
    process.exit(1);
  }
  if (result.status !== 0) {
    console.error(`  ${what} failed (exit ${result.status})`);
    process.exit(result.status ?? 1);
  }
  console.log(`  ${what}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const lockStamp = join(root, 'node_modules', '.aia-lock.sha256');
const lockHash = digest(['package-lock.json']);
if (!existsSync(join(root, 'node_modules')) || readStamp(lockStamp) !== lockHash) {
  run(['ci', '--no-audit', '--no-fund', '--loglevel=error'], 'installing dependencies');
  writeFileSync(lockStamp, `${lockHash}\n`);
} else {
  console.log('  dependencies: up to date (package-lock.json unchanged)');
}

const buildStamp = join(root, 'dist', '.aia-build.sha256');
const buildHash = digest(BUILD_INPUTS);
if (!existsSync(join(root, 'dist', 'index.html')) || readStamp(buildStamp) !== buildHash) {
  run(['run', 'build', '--silent'], 'building the app');
  writeFileSync(buildStamp, `${buildHash}\n`);
} else {
  console.log('  build: up to date (sources unchanged)');
}
