# Sourced by scripts/check.sh and scripts/check-debug.sh: how a test run
# is put together from stages, each reporting in KTAP to
# $RESULTS/STAGE.ktap, nested into one document, $CHECK, which the caller
# starts ("KTAP version 1"), ends ("1..$n") and counts with
# scripts/ktap.py.  The caller sets S (scripts/), RESULTS, CHECK, n=0 and
# times=() first.

# stage NAME COMMAND...: a check that reports in KTAP on its stdout; its
# stderr (progress, and each result as it comes) goes to the console.
stage() {
	local name=$1 t0 rc
	shift
	echo "== $name"
	t0=$(now)
	"$@" >"$RESULTS/$name.ktap"
	rc=$?
	nest "$name" "$rc" "$RESULTS/$name.ktap" "$(($(now) - t0))"
	return $rc
}

# step NAME DESCRIPTION COMMAND...: a step that is one result: its exit
# status.  Its output goes to build/results/NAME.log, the end of it to
# the console when it fails.
step() {
	local name=$1 what=$2 t0 rc
	shift 2
	echo "== $name"
	t0=$(now)
	"$@" >"$RESULTS/$name.log" 2>&1
	rc=$?
	{
		KTAP_N=0
		ktap_begin
		if [ $rc = 0 ]; then
			ktap_result pass "$what"
		else
			tail -5 "$RESULTS/$name.log" >&2
			ktap_result fail "$what" "exit status $rc; see $RESULTS/$name.log"
		fi
		ktap_end
	} >"$RESULTS/$name.ktap"
	nest "$name" "$rc" "$RESULTS/$name.ktap" "$(($(now) - t0))"
	return $rc
}

# stage_begin NAME COMMAND... / stage_end NAME: a stage that runs in the
# background while the next ones run in the foreground, for a stage that
# mostly waits on one core (Bochs) beside stages whose figures do not
# depend on the host's load.  Its progress goes to
# build/results/NAME.progress, shown when it ends.
declare -A bg_pid bg_t0
stage_begin() {
	local name=$1
	shift
	echo "== $name (in the background)"
	bg_t0[$name]=$(now)
	"$@" >"$RESULTS/$name.ktap" 2>"$RESULTS/$name.progress" &
	bg_pid[$name]=$!
}

stage_end() {
	local name=$1 rc
	wait "${bg_pid[$name]}"
	rc=$?
	echo "== $name (ended)"
	cat "$RESULTS/$name.progress"
	nest "$name" "$rc" "$RESULTS/$name.ktap" "$(($(now) - ${bg_t0[$name]}))"
	return $rc
}

nest() {	# nest NAME STATUS KTAP SECONDS
	n=$((n + 1))
	sed 's/^/    /' "$3" >>"$CHECK"
	if [ "$2" = 0 ]; then
		echo "ok $n $1" >>"$CHECK"
	else
		echo "not ok $n $1 # exit status $2" >>"$CHECK"
	fi
	times+=("$1 $4 s")
	echo "$1: $("$S/ktap.py" --count "$3" | sed 's/^$/no results/') in $4 s"
}

