package pan123_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-pan123/pan123"
	"github.com/go-pan123/pan123/pan123test"
)

// Hostile platform answers, in all three flows (TestUploadHostileAnswers
// covers the drive V1 create cases): each gives a clear error, never a
// panic, a hang or an unbounded read.

// apiBodyCap is the SDK's cap on an API answer (1 MiB), and putBodyCap
// what it reads of a presigned PUT's answer (4 KiB); slack covers what the
// transport reads ahead.
const (
	apiBodyCap = 1 << 20
	putBodyCap = 4 << 10
	readSlack  = 64 << 10
)

func envelope(data string) string {
	return `{"code":0,"message":"ok","data":` + data + `,"x-traceID":"hostile"}`
}

type hostileCase struct {
	name  string
	only  func(f flow) bool // nil: every flow
	size  int64
	pre   []func(f flow) pan123test.Fault // faults injected before fault
	fault func(f flow) pan123test.Fault
	// check inspects the error; calls counts how often op was called, to
	// show that a final answer was not retried (or a transient one was,
	// within the budget).
	check func(t *testing.T, r *rig, f flow, err error)
}

func onlyImage(f flow) bool { return f.image }
func onlyV2(f flow) bool    { return f.v2 }
func onlyV1(f flow) bool    { return !f.v2 }

// createAnswer is a create answer of f's flavour with the given fields.
func createAnswer(f flow, fileID, preuploadID string, reuse bool, sliceSize string) string {
	if f.image {
		return envelope(fmt.Sprintf(`{"fileID":%q,"preuploadID":%q,"reuse":%v,"sliceSize":%s}`, fileID, preuploadID, reuse, sliceSize))
	}
	servers := ""
	if f.v2 {
		servers = `,"servers":["http://127.0.0.1:1"]`
	}
	return envelope(fmt.Sprintf(`{"fileID":%s,"preuploadID":%q,"reuse":%v,"sliceSize":%s%s}`, fileID, preuploadID, reuse, sliceSize, servers))
}

// protocolOnce: the answer is refused as a protocol error, op was called
// once (not retried), and no slice was sent.
func protocolOnce(op func(f flow) pan123test.Op) func(t *testing.T, r *rig, f flow, err error) {
	return func(t *testing.T, r *rig, f flow, err error) {
		t.Helper()
		require.ErrorIs(t, err, pan123.ErrProtocol)
		assert.Equal(t, 1, r.srv.Count(op(f)), "a protocol error is not retried")
		if op(f) == f.create {
			assert.Zero(t, r.srv.Count(f.slice), "no slice sent after a refused create")
		}
	}
}

func createOp(f flow) pan123test.Op   { return f.create }
func getURLOp(f flow) pan123test.Op   { return f.getURL }
func completeOp(f flow) pan123test.Op { return f.complete }

// boundedRead: the answer was retried at most the retry budget and the
// client read at most cap bytes (plus slack) of each answer.
func boundedRead(op func(f flow) pan123test.Op, perAnswer int64) func(t *testing.T, r *rig, f flow, err error) {
	return func(t *testing.T, r *rig, f flow, err error) {
		t.Helper()
		var ue *pan123.UploadError
		require.ErrorAs(t, err, &ue)
		calls := int64(r.srv.Count(op(f)))
		assert.Positive(t, calls)
		assert.LessOrEqual(t, calls, int64(8), "retries bounded by the budget")
		assert.LessOrEqual(t, r.tr.respBytes.Load(), calls*(perAnswer+readSlack)+readSlack,
			"read %d bytes of %d oversized answers", r.tr.respBytes.Load(), calls)
		assert.Less(t, len(err.Error()), 1024, "the error does not echo the body")
		if perAnswer == apiBodyCap {
			assert.ErrorIs(t, err, resty.ErrResponseBodyTooLarge)
			assert.Equal(t, int64(1), calls, "no retry loop on an oversized answer")
		}
	}
}

func hostileCases() []hostileCase {
	huge := strings.Repeat("x", 3<<20) // 3 MiB
	fixed := func(fl pan123test.Fault) func(flow) pan123test.Fault {
		return func(flow) pan123test.Fault { return fl }
	}
	return []hostileCase{
		// Oversized answers.
		{name: "huge json create answer", fault: func(f flow) pan123test.Fault {
			return pan123test.Fault{Op: f.create, Times: -1, Body: `{"code":0,"message":"` + huge + `"}`}
		}, check: boundedRead(createOp, apiBodyCap)},
		{name: "huge gateway page on complete", fault: func(f flow) pan123test.Fault {
			return pan123test.Fault{Op: f.complete, Times: -1, Status: 502, Body: "<html>" + huge + "</html>"}
		}, check: boundedRead(completeOp, apiBodyCap)},
		{name: "huge s3 error body on put", only: onlyV1, fault: fixed(pan123test.Fault{Op: pan123test.OpPut, Times: -1, Status: 500, Body: "<Error>" + huge + "</Error>"}),
			check: boundedRead(func(flow) pan123test.Op { return pan123test.OpPut }, putBodyCap)},
		{name: "huge slice answer", only: onlyV2, fault: fixed(pan123test.Fault{Op: pan123test.OpV2Slice, Times: -1, Body: `{"code":0,"message":"` + huge + `"}`}),
			check: boundedRead(func(flow) pan123test.Op { return pan123test.OpV2Slice }, apiBodyCap)},

		// Slice sizes the SDK cannot work with (drive V1: TestUploadHostileAnswers).
		{name: "zero slice size", only: func(f flow) bool { return f.image || f.v2 }, fault: func(f flow) pan123test.Fault {
			return pan123test.Fault{Op: f.create, Body: createAnswer(f, "0", "p/q+r", false, "0")}
		}, check: protocolOnce(createOp)},
		{name: "negative slice size", only: func(f flow) bool { return f.image || f.v2 }, fault: func(f flow) pan123test.Fault {
			return pan123test.Fault{Op: f.create, Body: createAnswer(f, "0", "p/q+r", false, "-16777216")}
		}, check: protocolOnce(createOp)},
		{name: "more than 10000 slices", only: func(f flow) bool { return f.image || f.v2 }, size: 10001, fault: func(f flow) pan123test.Fault {
			return pan123test.Fault{Op: f.create, Body: createAnswer(f, "0", "p/q+r", false, "1")}
		}, check: protocolOnce(createOp)},
		{name: "slice size beyond int64", fault: func(f flow) pan123test.Fault {
			return pan123test.Fault{Op: f.create, Body: createAnswer(f, "0", "p/q+r", false, "1e300")}
		}, check: protocolOnce(createOp)},

		// Instant upload without a file.
		{name: "reuse with empty file ID", only: onlyImage, fault: func(f flow) pan123test.Fault {
			return pan123test.Fault{Op: f.create, Body: createAnswer(f, "", "", true, "0")}
		}, check: protocolOnce(createOp)},
		{name: "reuse with file ID 0", only: func(f flow) bool { return f.image || f.v2 }, fault: func(f flow) pan123test.Fault {
			return pan123test.Fault{Op: f.create, Body: createAnswer(f, "0", "", true, "0")}
		}, check: protocolOnce(createOp)},

		// Presigned URLs and upload servers.
		{name: "empty presigned url", only: onlyImage, fault: func(f flow) pan123test.Fault {
			return pan123test.Fault{Op: f.getURL, Times: -1, Body: envelope(`{"presignedURL":"","isMultipart":false}`)}
		}, check: protocolOnce(getURLOp)},
		{name: "ftp presigned url", only: onlyImage, fault: func(f flow) pan123test.Fault {
			return pan123test.Fault{Op: f.getURL, Times: -1, Body: envelope(`{"presignedURL":"ftp://example.invalid/x?X-Amz-Signature=abc","isMultipart":false}`)}
		}, check: protocolOnce(getURLOp)},
		{name: "file presigned url", only: onlyV1, fault: func(f flow) pan123test.Fault {
			return pan123test.Fault{Op: f.getURL, Times: -1, Body: envelope(`{"presignedURL":"file:///etc/passwd","isMultipart":false}`)}
		}, check: protocolOnce(getURLOp)},
		{name: "host-less presigned url", only: onlyV1, fault: func(f flow) pan123test.Fault {
			return pan123test.Fault{Op: f.getURL, Times: -1, Body: envelope(`{"presignedURL":"http:///storage/x","isMultipart":false}`)}
		}, check: protocolOnce(getURLOp)},
		// An unusable create.servers falls back to domain: both are unusable here.
		{name: "ftp upload server", only: onlyV2, pre: []func(flow) pan123test.Fault{func(flow) pan123test.Fault {
			return pan123test.Fault{Op: pan123test.OpV2Domain, Body: envelope(`["ftp://example.invalid"]`)}
		}}, fault: func(f flow) pan123test.Fault {
			return pan123test.Fault{Op: f.create, Body: envelope(`{"fileID":0,"preuploadID":"p/q+r","reuse":false,"sliceSize":262144,"servers":["ftp://example.invalid"]}`)}
		}, check: func(t *testing.T, r *rig, f flow, err error) {
			require.ErrorIs(t, err, pan123.ErrProtocol)
			assert.Zero(t, r.srv.Count(pan123test.OpV2Slice))
		}},
		{name: "no upload server anywhere", only: onlyV2, pre: []func(flow) pan123test.Fault{func(f flow) pan123test.Fault {
			// create answers no servers, so that domain is asked
			return pan123test.Fault{Op: f.create, Body: envelope(`{"fileID":0,"preuploadID":"p/q+r","reuse":false,"sliceSize":262144,"servers":[]}`)}
		}}, fault: func(f flow) pan123test.Fault {
			return pan123test.Fault{Op: pan123test.OpV2Domain, Times: -1, Body: envelope(`[]`)}
		}, check: func(t *testing.T, r *rig, f flow, err error) {
			require.ErrorIs(t, err, pan123.ErrProtocol)
			assert.Zero(t, r.srv.Count(pan123test.OpV2Slice))
		}},

		// Data of the wrong JSON type.
		{name: "data is a string", fault: func(f flow) pan123test.Fault {
			return pan123test.Fault{Op: f.create, Body: envelope(`"oops"`)}
		}, check: protocolOnce(createOp)},
		{name: "data is an array", fault: func(f flow) pan123test.Fault {
			return pan123test.Fault{Op: f.create, Body: envelope(`[1,2,3]`)}
		}, check: protocolOnce(createOp)},
		{name: "slice size is a word", fault: func(f flow) pan123test.Fault {
			return pan123test.Fault{Op: f.create, Body: createAnswer(f, "0", "p/q+r", false, `"big"`)}
		}, check: protocolOnce(createOp)},
		{name: "reuse is a string", fault: func(f flow) pan123test.Fault {
			return pan123test.Fault{Op: f.create, Body: envelope(`{"fileID":0,"preuploadID":"p","reuse":"yes","sliceSize":262144}`)}
		}, check: protocolOnce(createOp)},
		{name: "servers is a string", only: onlyV2, fault: func(f flow) pan123test.Fault {
			return pan123test.Fault{Op: f.create, Body: envelope(`{"fileID":0,"preuploadID":"p","reuse":false,"sliceSize":262144,"servers":"http://x"}`)}
		}, check: protocolOnce(createOp)},
		{name: "presigned url is a number", only: onlyV1, fault: func(f flow) pan123test.Fault {
			return pan123test.Fault{Op: f.getURL, Body: envelope(`{"presignedURL":42,"isMultipart":false}`)}
		}, check: protocolOnce(getURLOp)},
		{name: "complete file ID is an object", fault: func(f flow) pan123test.Fault {
			return pan123test.Fault{Op: f.complete, Body: envelope(`{"async":false,"completed":true,"fileID":{"id":1}}`)}
		}, check: protocolOnce(completeOp)},
		{name: "completed is a string", fault: func(f flow) pan123test.Fault {
			return pan123test.Fault{Op: f.complete, Body: envelope(`{"async":false,"completed":"true","fileID":1}`)}
		}, check: protocolOnce(completeOp)},
	}
}

func TestUploadHostileAnswersAllFlows(t *testing.T) {
	t.Parallel()
	for _, hc := range hostileCases() {
		for _, f := range flows {
			if hc.only != nil && !hc.only(f) {
				continue
			}
			t.Run(hc.name+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				r := newRig(t, nil)
				for _, pre := range hc.pre {
					r.srv.Inject(pre(f))
				}
				r.srv.Inject(hc.fault(f))
				size := hc.size
				if size == 0 {
					size = 2*rigSlice + 3
				}
				path, data := rigFile(t, size, 9)
				ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second) // hang guard
				defer cancel()
				start := time.Now()
				var err error
				require.NotPanics(t, func() {
					// one slice at a time: the first refused slice ends the upload
					_, err = f.upload(ctx, r, r.uploader(pan123.WithConcurrency(1)), fromFile, "hostile.bin", path, data)
				})
				require.Error(t, err)
				require.NotErrorIs(t, err, context.DeadlineExceeded, "ended by the hang guard")
				hc.check(t, r, f, err)
				t.Logf("%v: %v", time.Since(start).Round(time.Millisecond), err)
			})
		}
	}
}
