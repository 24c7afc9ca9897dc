// Gives the whole test run one temporary folder, removed by global-teardown.js, so that
// repositories and data directories of tests never pile up in the system's temp folder.
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

module.exports = async () => {
  process.env.KRITEN_TEST_TMPDIR = mkdtempSync(join(tmpdir(), 'kriten-tests-'));
};
