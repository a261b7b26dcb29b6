//go:build race

package readmodel

// raceBuild shrinks the randomized tests under the race detector, which slows the SQLite
// engine (C translated to Go) about twentyfold; the plain run keeps their full size.
const raceBuild = true
