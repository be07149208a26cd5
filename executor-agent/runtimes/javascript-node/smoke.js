// Smoke test for the javascript-node runtime image, run with the sandbox's flags. It must print exactly OK.
const assert = require('node:assert');
const fs = require('node:fs');
const crypto = require('node:crypto');
// Any unprivileged uid: each sandbox runs as its own pooled uid.
assert.ok(process.getuid() !== 0 && process.getgid() !== 0);
assert.equal(crypto.createHash('sha256').update('').digest('hex').slice(0, 8), 'e3b0c442');
fs.writeFileSync('/tmp/smoke', 'é');
assert.equal(fs.readFileSync('/tmp/smoke', 'utf8'), 'é');
assert.deepEqual(JSON.parse('{"a":[1,2]}'), { a: [1, 2] });
console.log('OK');
