package app

// RuleDeps are the adapters of automation rules and the rule engine (helper C3).
type RuleDeps struct{}
