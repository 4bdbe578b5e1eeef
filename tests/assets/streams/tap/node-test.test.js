const test = require('node:test');
const assert = require('node:assert');
test('adds', () => { assert.strictEqual(1 + 1, 2); });
test('cart', async (t) => {
  await t.test('total', () => { assert.strictEqual(2 * 2, 4); });
  await t.test('discount', () => { assert.strictEqual(10 - 1, 8, 'discount is wrong'); });
});
test('skipped one', { skip: 'no network' }, () => {});
test('todo one', { todo: 'later' }, () => { throw new Error('not yet'); });
