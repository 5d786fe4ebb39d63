package pan123

import "strconv"

// String names the protocol as the CLI and logs spell it: "v1", "v2", "auto".
func (p Protocol) String() string {
	switch p {
	case V1:
		return "v1"
	case V2:
		return "v2"
	case Auto:
		return "auto"
	}
	return "Protocol(" + strconv.Itoa(int(p)) + ")"
}

// String names the policy: "unset", "keep-both", "overwrite".
func (d Duplicate) String() string {
	switch d {
	case DuplicateUnset:
		return "unset"
	case KeepBoth:
		return "keep-both"
	case Overwrite:
		return "overwrite"
	}
	return "Duplicate(" + strconv.Itoa(int(d)) + ")"
}

// String names the policy: "skip", "overwrite", "keep-both".
func (e ExistingPolicy) String() string {
	switch e {
	case ExistingSkip:
		return "skip"
	case ExistingOverwrite:
		return "overwrite"
	case ExistingKeepBoth:
		return "keep-both"
	}
	return "ExistingPolicy(" + strconv.Itoa(int(e)) + ")"
}

// String names the event: "bytes", "phase", "slice-done", "slice-retry",
// "reused", "slice-skipped", "restart".
func (e Event) String() string {
	switch e {
	case EventBytes:
		return "bytes"
	case EventPhase:
		return "phase"
	case EventSliceDone:
		return "slice-done"
	case EventSliceRetry:
		return "slice-retry"
	case EventReused:
		return "reused"
	case EventSliceSkipped:
		return "slice-skipped"
	case EventRestart:
		return "restart"
	}
	return "Event(" + strconv.Itoa(int(e)) + ")"
}
