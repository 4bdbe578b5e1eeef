use strict; use warnings;
use Test::More tests => 5;
ok(1, 'first works');
is(2 + 2, 5, 'arithmetic');
SKIP: { skip 'no database', 1; ok(0, 'db'); }
TODO: { local $TODO = 'not done'; ok(0, 'later'); }
subtest 'nested' => sub { plan tests => 2; ok(1, 'inner one'); ok(1, 'inner two'); };
