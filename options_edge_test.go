package pan123_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// The documented ends of the options' ranges are accepted: a bandwidth
// limit of 0 (no cap), for the Client and for one upload, and MaxConcurrency slices in flight.
func TestOptionRangeEndsAreAccepted(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, nil, func(*pan123test.Server) []pan123.Option {
		return []pan123.Option{pan123.WithBandwidthLimit(0)}
	})
	assert.Zero(t, e.c.BandwidthLimit())
	res, err := e.uploader(pan123.WithConcurrency(pan123.MaxConcurrency), pan123.WithUploadBandwidthLimit(0)).
		Upload(t.Context(), bytes.NewReader([]byte("max concurrency")), pan123.FileInput{Name: "max.bin"})
	require.NoError(t, err)
	assert.NotZero(t, res.FileID)
}

// Durations that must be positive refuse 0 before anything is sent.
func TestZeroDurationOptionsAreRefused(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]pan123.UploadOption{
		"slice retry base": pan123.WithSliceRetry(3, 0, time.Millisecond),
		"poll interval":    pan123.WithPollInterval(0),
		"complete timeout": pan123.WithCompleteTimeout(0),
		"stall timeout":    pan123.WithStallTimeout(0),
		"response timeout": pan123.WithResponseTimeout(0),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			_, err := e.uploader(opt).Upload(t.Context(), bytes.NewReader([]byte("x")), pan123.FileInput{Name: "x.bin"})
			require.ErrorIs(t, err, pan123.ErrInvalidInput)
			assert.Empty(t, e.srv.Requests())
		})
	}
}
