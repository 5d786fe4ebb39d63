//go:build !unix

package main

// cpuSeconds is 0 where getrusage is missing: the bench prints no CPU time.
func cpuSeconds() float64 { return 0 }
