import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientNetwork } from './client-network.js';

describe('clientNetwork', () => {
  it('IPv4 is the address; IPv4-mapped IPv6 (dotted or hex) folds to it', () => {
    assert.equal(clientNetwork('203.0.113.9', 64), '203.0.113.9');
    assert.equal(clientNetwork('::ffff:203.0.113.9', 64), '203.0.113.9');
    assert.equal(clientNetwork('::FFFF:cb00:7109', 64), '203.0.113.9');
    assert.notEqual(clientNetwork('10.0.0.1', 64), clientNetwork('10.0.0.2', 64));
  });

  it('IPv6 is its prefix, in one canonical spelling', () => {
    assert.equal(clientNetwork('2001:db8:1:2:3:4:5:6', 64), '2001:db8:1:2::/64');
    assert.equal(clientNetwork('2001:DB8:1:2::99', 64), '2001:db8:1:2::/64');
    assert.equal(clientNetwork('2001:0db8:0001:0002:ffff:ffff:ffff:ffff', 64), '2001:db8:1:2::/64');
    assert.notEqual(clientNetwork('2001:db8:1:2::1', 64), clientNetwork('2001:db8:1:3::1', 64));
    assert.equal(clientNetwork('2001:db8:1:2ff::1', 56), '2001:db8:1:200::/56');
    assert.equal(clientNetwork('2001:db8:ffff:2::1', 36), '2001:db8:f000::/36');
    assert.equal(clientNetwork('fe80::1%eth0', 64), 'fe80::/64');
  });

  it('an IPv6 address with a dotted tail after "::" is the same network as its hex spelling', () => {
    // ipaddr.js 1.x cannot parse these; returned raw, each spelling (and each tail) was its own key.
    assert.equal(clientNetwork('2001:db8:1:2::1.2.3.4', 64), '2001:db8:1:2::/64');
    assert.equal(clientNetwork('2001:db8:1:2::5.6.7.8', 64), clientNetwork('2001:db8:1:2::506:708', 64));
    assert.equal(clientNetwork('2001:db8:1:2::1.2.3.4', 128), '2001:db8:1:2::102:304');
    assert.equal(clientNetwork('64:ff9b::1.2.3.4', 64), '64:ff9b::/64');
    assert.equal(clientNetwork('::1.2.3.4', 64), '::/64');
    assert.equal(clientNetwork('::1.2.3.400', 64), '::1.2.3.400', 'not an address: unchanged');
  });

  it('prefix 128 keeps each address; a network maps to itself; non-addresses stay as they are', () => {
    assert.equal(clientNetwork('2001:DB8:0::1', 128), '2001:db8::1');
    assert.equal(clientNetwork('2001:db8:1:2::/64', 64), '2001:db8:1:2::/64');
    assert.equal(clientNetwork(clientNetwork('2001:db8:1:2::5', 48), 48), '2001:db8:1::/48');
    assert.equal(clientNetwork('', 64), '');
    assert.equal(clientNetwork('203.0.113.9/32', 64), '203.0.113.9');
    assert.equal(clientNetwork('010.0.0.1', 64), '010.0.0.1', 'no octal aliasing of another address');
  });
});
