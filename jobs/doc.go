// Package jobs holds checkoutd's background work, run by River inside the
// same PostgreSQL: the arguments of each kind of job, enqueued in the same
// transaction as the change that causes it, and the workers that run them.
package jobs
