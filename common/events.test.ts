import { describe, expect, it } from 'vitest';
import { dedupedEvents, type EventPod } from './events.ts';

const pod = (name: string, uid = `uid-${name}`): EventPod => ({ name, namespace: 'demo', uid });

describe('dedupedEvents', () => {
  it('writes one event per pod and reason per window', () => {
    const clock = { now: 0 };
    const written: string[] = [];
    const events = dedupedEvents({ warn: (p, reason) => written.push(`${p.name}:${reason}`) }, 60_000, () => clock.now);
    events.warn(pod('a'), 'AmbiguousIdentity', 'm');
    events.warn(pod('a'), 'AmbiguousIdentity', 'm'); // same pod, same reason: dropped
    events.warn(pod('a'), 'Other', 'm');
    events.warn(pod('b'), 'AmbiguousIdentity', 'm');
    events.warn(pod('a', 'uid-recreated'), 'AmbiguousIdentity', 'm'); // a new pod of the same name is another pod
    clock.now += 60_000;
    events.warn(pod('a'), 'AmbiguousIdentity', 'm'); // the window has passed
    expect(written).toEqual(['a:AmbiguousIdentity', 'a:Other', 'b:AmbiguousIdentity', 'a:AmbiguousIdentity', 'a:AmbiguousIdentity']);
  });
});
