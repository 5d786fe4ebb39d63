//go:build race

package main

import (
	"testing"

	"github.com/go-pan123/pan123/internal/racemain"
)

// TestMain skips the race detector's exit sleep on a passing run (see racemain).
func TestMain(m *testing.M) { racemain.Run(m) }
