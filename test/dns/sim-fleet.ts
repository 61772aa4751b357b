import { createFleetModel } from '../../src/sim/fleet.js';
import type { FleetModel } from '../../src/sim/fleet-model.js';
import { HEALTHY_PROFILE } from '../../src/sim/profile.js';

/**
 * A 16-host fleet (127.20.0.0/28, zone fleet.test) with one DNS fault per host index:
 * 0-3 healthy, 4 nxdomain, 5 servfail, 6 no-reply, 7 truncated, 8 wrong-address, 9-15 healthy.
 */
export function testFleet(): FleetModel {
  return createFleetModel({
    hosts: 16,
    base: '127.20.0.0',
    zone: 'fleet.test',
    profile: {
      ...HEALTHY_PROFILE,
      name: 'dns-test',
      ranges: [
        { from: 4, to: 4, dns: 'nxdomain' },
        { from: 5, to: 5, dns: 'servfail' },
        { from: 6, to: 6, dns: 'no-reply' },
        { from: 7, to: 7, dns: 'truncated' },
        { from: 8, to: 8, dns: 'wrong-address' },
      ],
    },
  });
}

export const HOST = {
  healthy: 1,
  nxdomain: 4,
  servfail: 5,
  noReply: 6,
  truncated: 7,
  wrongAddress: 8,
} as const;
