package actors

import "sort"

// remove stops label for good.
func (t *childTable) remove(label string) ([]effect, error) {
	s, ok := t.byLabel[label]
	if !ok {
		return nil, errNoSuchChild
	}
	if t.shutdown {
		return nil, errStopping
	}
	s.removing = true
	switch s.state {
	case slotWaiting:
		t.drop(s)
		return t.next([]effect{{kind: doForget, label: label}}), nil
	case slotStopping:
		return nil, nil
	}
	s.state = slotStopping
	return []effect{{kind: doStop, label: label}}, nil
}

// stopAll begins the ordered shutdown: children named in order first, then
// the rest in reverse start order, one at a time, each waited for.
func (t *childTable) stopAll(order []string) []effect {
	if t.shutdown {
		return nil
	}
	t.shutdown, t.starting, t.groups = true, nil, nil
	var eff []effect
	named := make(map[*childSlot]bool)
	for _, l := range order {
		if s, ok := t.byLabel[l]; ok && !named[s] {
			named[s] = true
			t.stopQueue = append(t.stopQueue, s)
		}
	}
	rest := make([]*childSlot, 0, len(t.slots))
	for _, s := range t.slots {
		if s.state == slotWaiting { // nothing to stop; it will not come back
			eff = append(eff, effect{kind: doMarkStopped, label: s.spec.Label})
			continue
		}
		if !named[s] {
			rest = append(rest, s)
		}
	}
	sort.SliceStable(rest, func(i, j int) bool { return rest[i].startSeq > rest[j].startSeq })
	t.stopQueue = append(t.stopQueue, rest...)
	return t.shutdownNext(eff)
}

func (t *childTable) shutdownNext(eff []effect) []effect {
	for len(t.stopQueue) > 0 {
		h := t.stopQueue[0]
		switch h.state {
		case slotStopping:
			return eff // wait for its Terminated
		case slotRunning, slotStarting:
			h.state = slotStopping
			return append(eff, effect{kind: doStop, label: h.spec.Label, ordered: true})
		}
		t.stopQueue = t.stopQueue[1:]
	}
	if !t.selfStop {
		t.selfStop = true
		eff = append(eff, effect{kind: doStopSelf})
	}
	return eff
}

func (t *childTable) shutdownTerminated(s *childSlot) []effect {
	for i, q := range t.stopQueue {
		if q == s {
			t.stopQueue = append(t.stopQueue[:i], t.stopQueue[i+1:]...)
			break
		}
	}
	t.drop(s)
	var eff []effect
	if s.spec.Restart == Temporary {
		eff = append(eff,
			effect{kind: doReport, label: s.spec.Label, exit: s.reason, watcher: s.spec.Watcher},
			effect{kind: doForget, label: s.spec.Label})
	}
	return t.shutdownNext(eff)
}
