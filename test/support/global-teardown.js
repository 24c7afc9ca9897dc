const { rmSync } = require('node:fs');

module.exports = async () => {
  if (process.env.KRITEN_TEST_TMPDIR) {
    rmSync(process.env.KRITEN_TEST_TMPDIR, { recursive: true, force: true });
  }
};
