package client

// ConfigFromLookup exposes configFromLookup to the external tests, which run
// in parallel and so cannot set the process environment.
var ConfigFromLookup = configFromLookup
