import { describe, expect, it } from 'vitest';
import { clusterLevelAtLeast, hostSupportsClusterLevel, sameClusterLevel } from '../../model/install-host/cluster-level';

describe('cluster levels', () => {
  it('are the same version when major and minor are the same numbers', () => {
    expect(sameClusterLevel('4.8', '4.08')).toBe(true);
    expect(sameClusterLevel('4.8', '4.8')).toBe(true);
    expect(sameClusterLevel('4.8', '4.7')).toBe(false);
    expect(sameClusterLevel('4.8', '5.8')).toBe(false);
    expect(sameClusterLevel('4.x', '4.x')).toBe(false);
  });

  it('order by major, then minor', () => {
    expect(clusterLevelAtLeast('4.3', [4, 3])).toBe(true);
    expect(clusterLevelAtLeast('4.10', [4, 3])).toBe(true);
    expect(clusterLevelAtLeast('5.0', [4, 3])).toBe(true);
    expect(clusterLevelAtLeast('4.2', [4, 3])).toBe(false);
    expect(clusterLevelAtLeast('3.9', [4, 3])).toBe(false);
  });

  it('are supported by a host that lists them, or lists none', () => {
    const reported = ['4.2', '4.3', '4.4', '4.5', '4.6', '4.7', '4.8'];
    expect(hostSupportsClusterLevel(reported, '4.8')).toBe(true);
    expect(hostSupportsClusterLevel(reported, '4.08')).toBe(true);
    expect(hostSupportsClusterLevel(reported, '4.9')).toBe(false);
    expect(hostSupportsClusterLevel(reported, '4.1')).toBe(false);
    expect(hostSupportsClusterLevel([], '4.9')).toBe(true);
  });
});
