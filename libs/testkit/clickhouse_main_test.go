package testkit

import "testing"

// One ClickHouse server for the whole package, stopped after the last test.
func TestMain(m *testing.M) { Main(m) }
