package pan123

import (
	"context"

	"golang.org/x/time/rate"
)

// DefaultRateLimits returns the client-side request rates (per second) used
// unless [WithRateLimits] or [WithoutRateLimits] says otherwise. They follow
// the only official table that lists upload endpoints (api.md §6, table D,
// "per uid"), and the free-tier access_token and api/v2/file/list rows of the
// developer table (table A). The image-bed and V2 upload endpoints are listed
// nowhere; they get the rate of their V1 twin.
// Endpoints missing from the map are not limited (PUTs to presigned URLs and
// V2 slice posts go to storage hosts and are bounded by concurrency instead).
func DefaultRateLimits() map[string]float64 {
	return map[string]float64{
		pathAccessToken:        8,
		pathCreate:             5,
		pathGetUploadURL:       20,
		pathListUploadParts:    20,
		pathComplete:           20,
		pathAsyncResult:        5,
		pathMkdir:              5,
		pathOSSCreate:          5,
		pathOSSGetUploadURL:    20,
		pathOSSListUploadParts: 20,
		pathOSSComplete:        20,
		pathOSSAsyncResult:     5,
		pathOSSMkdir:           5,
		pathV2Create:           5,
		pathV2Complete:         20,
		pathV2Domain:           5,
		pathV2SHA1Reuse:        2,
		pathFileList:           5,
	}
}

// limiters holds one token bucket per endpoint path; nil map = no limits.
type limiters map[string]*rate.Limiter

func newLimiters(perSecond map[string]float64) limiters {
	if len(perSecond) == 0 {
		return nil
	}
	l := make(limiters, len(perSecond))
	for path, r := range perSecond {
		if r > 0 {
			// Burst 1: requests are spaced evenly, so no window of any length
			// sees more than the platform's rate (its window is undocumented).
			l[path] = rate.NewLimiter(rate.Limit(r), 1)
		}
	}
	return l
}

// wait blocks until path may be called, or ctx is done.
func (l limiters) wait(ctx context.Context, path string) error {
	if lim := l[path]; lim != nil {
		if err := lim.Wait(ctx); err != nil {
			// Wait fails at once, with an error of its own, when the delay
			// would outlast ctx's deadline: wait for it like any other wait,
			// so callers get ctx.Err().
			if ctx.Err() == nil {
				<-ctx.Done()
			}
			return ctx.Err()
		}
	}
	return nil
}
