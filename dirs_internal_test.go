package pan123

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEachPageStopsAfterMaxListPages: a platform that hands out a fresh
// cursor on every page cannot keep a caller listing: after maxListPages
// pages the listing ends with ErrProtocol. The fake pages live in memory;
// past twice the bound they fail, so that a broken bound fails the test
// instead of hanging it.
func TestEachPageStopsAfterMaxListPages(t *testing.T) {
	t.Parallel()
	calls := 0
	errRunaway := errors.New("the listing did not stop at its bound")
	page := func(ctx context.Context, cursor string) ([]int, string, error) {
		calls++
		if calls > 2*maxListPages {
			return nil, "", errRunaway
		}
		return []int{calls}, strconv.Itoa(calls), nil
	}
	entries := 0
	err := eachPage(t.Context(), int64(7), page, func(int) bool { entries++; return true })
	require.ErrorIs(t, err, ErrProtocol)
	require.EqualError(t, err, "pan123: unexpected platform answer: listing of folder 7: no last page after 10000 pages")
	require.Equal(t, maxListPages, calls)
	require.Equal(t, maxListPages, entries)
}
