// Gives the whole test run one temporary folder, removed by global-teardown.js, so that
// repositories and data directories of tests never pile up in the system's temp folder.
// The folder is under /var/tmp when it exists, not /tmp: containers of the fake Kubernetes
// API server get an empty /tmp, as pods do, and their clone step must still read the test
// repositories through file:// URLs.
const { existsSync, mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

module.exports = async () => {
  const base = existsSync('/var/tmp') ? '/var/tmp' : tmpdir();
  process.env.KRITEN_TEST_TMPDIR = mkdtempSync(join(base, 'kriten-tests-'));
};
