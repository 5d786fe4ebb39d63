//go:build race

package pan123_test

const raceEnabled = true
