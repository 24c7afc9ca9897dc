// Builds the server before `npm start` when dist/ is missing or older than the sources.
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const entry = join(root, 'dist/apps/kriten/src/main.js');

function newestSourceTime(folder) {
  let newest = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    const time = entry.isDirectory() ? newestSourceTime(path) : statSync(path).mtimeMs;
    newest = Math.max(newest, time);
  }
  return newest;
}

const sourceTime = Math.max(newestSourceTime(join(root, 'apps')), newestSourceTime(join(root, 'libs')));
if (!existsSync(entry) || statSync(entry).mtimeMs < sourceTime) {
  console.log('Building Kriten (dist/ is missing or older than the sources)...');
  execFileSync('npx', ['nest', 'build'], { cwd: root, stdio: 'inherit' });
}
