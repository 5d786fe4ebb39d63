package pan123

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// A slot taken at exactly its due time is claimed: the next one is an
// interval later, not free at the same instant.
func TestPacerSlotAtItsExactDueTime(t *testing.T) {
	t.Parallel()
	p := &pacer{rate: 10, ceil: 10, span: paceSpan}
	t0 := time.Now()
	assert.Zero(t, p.take(t0))
	due := t0.Add(100 * time.Millisecond)
	assert.Zero(t, p.take(due))
	assert.Equal(t, 100*time.Millisecond, p.take(due), "a second call at the same instant must wait")
}

// A probe whose answer is lost frees the others at exactly probeWait after
// its slot: one of them is claimed there, the next waits an interval.
func TestPacerLostProbeAtItsExactDeadline(t *testing.T) {
	t.Parallel()
	p := &pacer{rate: 10, ceil: 10, span: paceSpan, probing: true}
	t0 := time.Now()
	assert.Zero(t, p.take(t0)) // the probe
	assert.Equal(t, 100*time.Millisecond, p.take(t0.Add(time.Second)), "others wait for the probe's answer")
	end := t0.Add(probeWait)
	assert.Zero(t, p.take(end))
	assert.False(t, p.probing)
	assert.Equal(t, 100*time.Millisecond, p.take(end))
}

// After a 429, the accepted calls of the span before it are counted; one
// exactly a span earlier is out of it.
func TestPacerCutCountsTheSpanBeforeThe429(t *testing.T) {
	t.Parallel()
	p := &pacer{rate: 100, ceil: 100, span: paceSpan}
	slot := time.Now()
	p.accepted = []time.Time{slot.Add(-paceSpan), slot.Add(-paceSpan / 2)}
	assert.InDelta(t, 1/paceSpan.Seconds()*paceMargin, p.cutRate(slot), 1e-9)
}
