package inventory

// GroupRun describes a group of operations as it starts.
type GroupRun = groupRun

// ObserveGroups has fn hear of every group l runs, before it runs. Call it
// before l is used.
func ObserveGroups(l *Ledger, fn func(GroupRun)) {
	l.group.observe = fn
}

// QueuedOps is how many operations wait for a group slot on l.
func QueuedOps(l *Ledger) int {
	l.group.mu.Lock()
	defer l.group.mu.Unlock()
	return len(l.group.queue)
}
