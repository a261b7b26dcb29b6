//go:build !race

package readmodel

const raceBuild = false
