package webhooks

// SetBeforeCommit makes p run f after each event's effect, just before its
// transaction commits; an error from f rolls the event back as a crash
// there would. nil removes the hook. Not safe while p processes events.
func SetBeforeCommit(p *Processor, f func() error) { p.beforeCommit = f }
