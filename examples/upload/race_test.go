//go:build race

package main

import (
	"testing"

	"github.com/go-pan123/pan123/internal/racemain"
)

const raceEnabled = true

// TestMain skips the race detector's exit sleep on a passing run (see racemain).
func TestMain(m *testing.M) { racemain.Run(m) }
