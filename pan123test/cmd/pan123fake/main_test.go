package main

import (
	"bytes"
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-pan123/pan123/pan123test"
)

func TestParseFault(t *testing.T) {
	got, err := parseFault("op=put,slice=2,times=-1,status=500,stall=2s,retry-after=3,drop=true,after=1,server=1,code=429,body=x")
	want := pan123test.Fault{Op: pan123test.OpPut, SliceNo: 2, Times: -1, Status: 500, Stall: 2 * time.Second,
		Header: http.Header{"Retry-After": {"3"}}, Drop: true, After: 1, Server: 1, Code: 429, Body: "x"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseFault = %+v, %v; want %+v", got, err, want)
	}
	for _, bad := range []string{"", "slice=2", "op=create", "op=put,slice=x", "op=put,colour=red", "op=put,stall"} {
		if _, err := parseFault(bad); err == nil {
			t.Errorf("parseFault(%q): no error", bad)
		}
	}
}

func TestRunUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-store", "all"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "-store") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"-h"}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "-fault") {
		t.Errorf("-h: exit %d, stderr %q", code, errb.String())
	}
}
