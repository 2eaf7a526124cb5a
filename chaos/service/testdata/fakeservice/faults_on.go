//go:build faults

package main

// faultsBuild says the binary was built with tag faults.
const faultsBuild = true
