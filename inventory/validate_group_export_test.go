package inventory

// ObserveValidateGroups has fn hear of every group of validations l runs,
// before it runs; fn may block, holding the group back. Call it before l is
// used.
func ObserveValidateGroups(l *Ledger, fn func(GroupRun)) {
	l.reads.observe = fn
}

// QueuedValidations is how many validations wait for a group slot on l.
func QueuedValidations(l *Ledger) int {
	l.reads.mu.Lock()
	defer l.reads.mu.Unlock()
	return len(l.reads.queue)
}
