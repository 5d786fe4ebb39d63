#!/usr/bin/env bash
# Mutation testing of pan123 with gremlins, one group of files at a time.
#
#   go install github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
#   scripts/mutation.sh            # every group, in the order below
#   scripts/mutation.sh trust      # one or more groups by name
#   scripts/mutation.sh -l         # list the groups
#   scripts/mutation.sh retry.go   # one root file (a group of its own)
#
# Each group is one gremlins run over the named files only; the summary lines
# (killed, lived, not covered, timed out, efficacy) are printed at the end and
# the per-mutant results go to $OUT/<group>.json and $OUT/<group>.txt.
#
# The tests run with -short -count=1 (through GOFLAGS; without -count=1 a
# cached coverage run would set a timeout of seconds). -short skips only
# TestFaultMatrix and TestReadmeSnippetsCompile: together they are half
# of the package's test time and the unit and scenario tests stay in. A
# mutant that survives here may still be caught by those two: the score is a
# lower bound. The run is niced and uses one worker by default so that it
# does not skew timing measurements on a shared machine; run one group at a
# time. WORKERS=2 runs two mutants at once (the tests mostly wait on real
# time); TIMEOUT_COEF (default 2) multiplies the coverage run's time to get a
# mutant's timeout: raise it under load so that slow but correct runs are not
# counted as timed out.
#
# Do not edit, check out or merge in the tree while a group runs: gremlins
# copies the module once at the start but reads each mutated file from the
# tree when it gets to it, so a change made meanwhile mixes two versions (a
# file that no longer builds against the copy counts as "killed"). To keep
# working, run it in a copy: git archive HEAD | tar -x -C /tmp/copy.
set -euo pipefail
cd "$(dirname "$0")/.."

GREMLINS=${GREMLINS:-gremlins}
OUT=${OUT:-${TMPDIR:-/tmp}/pan123-mutation}
mkdir -p "$OUT"

# Root-package groups, trust-critical first. ratelimit.go runs last.
groups=(trust state upload v2 client dirs pacing fake)
declare -A files=(
	[trust]="token.go tokenlease.go retry.go errors.go validate.go reconcile.go"
	[state]="slice.go checkpoint.go"
	[upload]="upload.go transfer.go"
	[v2]="v2.go prefetch.go oss.go"
	[client]="client.go services.go options.go endpoints.go storedname.go names.go hints.go progress.go bandwidth.go"
	[dirs]="dirs.go uploaddir.go hashcache.go filestore.go filestore_unix.go stamp_linux.go"
	[pacing]="ratelimit.go"
)

if [[ ${1:-} == -l ]]; then
	for g in "${groups[@]}"; do echo "$g: ${files[$g]:-pan123test/*.go}"; done
	exit 0
fi
(($#)) || set -- "${groups[@]}"

run() { # group, gremlins arguments...
	local g=$1
	shift
	echo "== $g ($(date -u +%H:%M:%S))"
	local start=$SECONDS
	GOFLAGS="${GOFLAGS:-} -short -count=1" nice -n 19 "$GREMLINS" unleash \
		--workers "${WORKERS:-1}" --timeout-coefficient "${TIMEOUT_COEF:-2}" -o "$OUT/$g.json" "$@" |
		tee "$OUT/$g.txt" | grep -E '^ *(KILLED|LIVED|TIMED OUT|NOT VIABLE)|^(Mutation testing|Killed|Timed out|Test efficacy|Mutator coverage)'
	echo "== $g took $((SECONDS - start)) s"
}

for g in "$@"; do
	if [[ $g == fake ]]; then
		# The fake platform, mutated against its own tests.
		run fake -E '^cmd/' pan123test
		continue
	fi
	if [[ $g == *.go && -f $g ]]; then
		files[$g]=$g
	fi
	[[ -n ${files[$g]:-} ]] || { echo "unknown group $g (try -l)" >&2; exit 2; }
	# Exclude every root file outside the group and every subdirectory.
	excl=(-E '/')
	for f in *.go; do
		[[ $f == *_test.go ]] && continue
		[[ " ${files[$g]} " == *" $f "* ]] || excl+=(-E "^${f//./\\.}\$")
	done
	run "$g" "${excl[@]}" .
done
